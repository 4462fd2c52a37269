using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using ReadHistory.Core.Hashing;

namespace ReadHistory.Core.Filters;

/// <summary>
/// The whole snapshot layout of a <see cref="UserFilter"/>, for warm start and the Redis tier, and its validation.
/// </summary>
/// <remarks>
/// <code>
///  0                64                        64 + 32·L                                        total − 4     total
///  +----------------+-------------------------+------------------------------------------------+-------------+
///  | header (64)    | L layer descriptors     | bit arrays, layer 0 first: 64 · blocks_i bytes  | CRC-32C     |
///  | see Header     | 32 bytes each           | each 512-bit block as 8 little-endian u64 words | (u32, LE)   |
///  +----------------+-------------------------+------------------------------------------------+-------------+
/// </code>
/// The CRC-32C covers every byte before it. Parsing checks, in order: the header (magic, version, ranges), the
/// declared total length against the limit (before anything is buffered or summed), the actual length against the
/// declared one, the checksum, then every descriptor and that the sizes add up to the total.
/// A parsed snapshot is a view over the bytes it was parsed from and allocates nothing: a warm start parses a million.
/// </remarks>
public readonly ref struct FilterSnapshot
{
    /// <summary>Bytes of the trailing checksum.</summary>
    public const int ChecksumSize = 4;

    private readonly ReadOnlySpan<byte> _data;

    private FilterSnapshot(ReadOnlySpan<byte> data, FilterSnapshotHeader header)
    {
        _data = data;
        Header = header;
    }

    /// <summary>The header.</summary>
    public FilterSnapshotHeader Header { get; }

    /// <summary>The number of layers.</summary>
    public int LayerCount => Header.LayerCount;

    /// <summary>The largest snapshot a reader with a bit budget of <paramref name="maxBitBytes"/> accepts.</summary>
    public static long MaxLength(long maxBitBytes) =>
        FilterSnapshotHeader.Size + (BloomFilterOptions.MaxLayers * (long)FilterSnapshotLayer.Size) + maxBitBytes + ChecksumSize;

    /// <summary>Bytes of a snapshot with these layers.</summary>
    public static long LengthFor(int layerCount, long bitBytes) =>
        FilterSnapshotHeader.Size + (layerCount * (long)FilterSnapshotLayer.Size) + bitBytes + ChecksumSize;

    /// <summary>Offset of the first bit array.</summary>
    public int BitsOffset => FilterSnapshotHeader.Size + (Header.LayerCount * FilterSnapshotLayer.Size);

    /// <summary>Layer <paramref name="index"/>'s descriptor (0 = the oldest); the descriptors were all checked by <see cref="Parse"/>.</summary>
    public FilterSnapshotLayer Layer(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Header.LayerCount);
        return FilterSnapshotLayer.Parse(_data.Slice(FilterSnapshotHeader.Size + (index * FilterSnapshotLayer.Size), FilterSnapshotLayer.Size), long.MaxValue);
    }

    /// <summary>
    /// Parses and validates a whole snapshot; <paramref name="maxBitBytes"/> bounds the bit arrays in total.
    /// Throws <see cref="FilterSnapshotException"/> saying what was expected and what arrived.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static FilterSnapshot Parse(ReadOnlySpan<byte> data, long maxBitBytes)
    {
        var header = FilterSnapshotHeader.Parse(data);
        var limit = LengthFor(header.LayerCount, maxBitBytes);
        if (header.TotalLength > limit)
        {
            throw new FilterSnapshotException(FilterSnapshotError.Oversize, $"Filter snapshot too large: it declares {header.TotalLength} bytes; at most {limit} are allowed ({maxBitBytes} bytes of bits).");
        }

        if (data.Length < header.TotalLength)
        {
            throw new FilterSnapshotException(FilterSnapshotError.Truncated, $"Filter snapshot truncated: expected {header.TotalLength} bytes, got {data.Length}.");
        }

        if (data.Length > header.TotalLength)
        {
            throw new FilterSnapshotException(FilterSnapshotError.Inconsistent, $"Invalid filter snapshot: expected {header.TotalLength} bytes, got {data.Length} (trailing bytes).");
        }

        var total = (int)header.TotalLength;
        var stored = BinaryPrimitives.ReadUInt32LittleEndian(data[(total - ChecksumSize)..]);
        var computed = Crc32C.Compute(data[..(total - ChecksumSize)]);
        if (stored != computed)
        {
            throw new FilterSnapshotException(FilterSnapshotError.ChecksumMismatch, $"Filter snapshot corrupted: expected CRC-32C 0x{stored:X8} (stored), computed 0x{computed:X8}.");
        }

        var descriptorsEnd = FilterSnapshotHeader.Size + (header.LayerCount * FilterSnapshotLayer.Size);
        FilterSnapshotHeader.Expect(total >= descriptorsEnd + ChecksumSize, $"expected at least {descriptorsEnd + ChecksumSize} bytes for {header.LayerCount} layers, the header declares {total}");
        long bitBytes = 0;
        for (var i = 0; i < header.LayerCount; i++)
        {
            bitBytes += FilterSnapshotLayer.Parse(data.Slice(FilterSnapshotHeader.Size + (i * FilterSnapshotLayer.Size), FilterSnapshotLayer.Size), maxBitBytes).BitBytes;
            if (bitBytes > maxBitBytes)
            {
                throw new FilterSnapshotException(FilterSnapshotError.Oversize, $"Filter snapshot too large: layers 0..{i} declare {bitBytes} bytes of bits; at most {maxBitBytes} are allowed.");
            }
        }

        var expected = LengthFor(header.LayerCount, bitBytes);
        FilterSnapshotHeader.Expect(expected == total, $"expected a total length of {expected} for these layers, the header declares {total}");
        return new FilterSnapshot(data, header);
    }
}
