using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace ReadHistory.Core.Filters;

/// <summary>
/// One layer's 32-byte descriptor in a filter snapshot (little-endian); its bit array follows all descriptors.
/// </summary>
/// <remarks>
/// <code>
///  0                8                16       20   21   22   24               32
///  +----------------+----------------+--------+----+----+----+----------------+
///  | capacity (i64) | count (i64)    | blocks | sc | k  | 0  | design rate    |
///  |                |                | (u32)  | u8 | u8 |u16 | (f64)          |
///  +----------------+----------------+--------+----+----+----+----------------+
/// </code>
/// sc = probe scheme: 1 = k probes anywhere in a 512-bit block from h2 · 0x9E3779B9^j (<see cref="BlockProbe"/>);
/// 2 = a binary fuse layer (<see cref="FuseLayer"/>: layout words and k = 8-bit fingerprints in the "blocks", 64-byte
/// units), layer 0 only. A build that knows only scheme 1 refuses scheme 2 with "expected probe scheme 1, got 2".
/// </remarks>
public readonly record struct FilterSnapshotLayer
{
    /// <summary>Descriptor bytes.</summary>
    public const int Size = 32;

    /// <summary>The blocked-Bloom probe scheme (every layer but a fuse base).</summary>
    public const byte LocalProbeScheme = 1;

    /// <summary>The binary fuse scheme of an immutable first layer.</summary>
    public const byte FuseScheme = 2;

    /// <summary>Creates a descriptor from its fields.</summary>
    public FilterSnapshotLayer(long capacity, long count, int blockCount, int probes, double designFalsePositiveRate, byte scheme = LocalProbeScheme)
    {
        Scheme = scheme;
        Capacity = capacity;
        Count = count;
        BlockCount = blockCount;
        Probes = probes;
        DesignFalsePositiveRate = designFalsePositiveRate;
    }

    /// <summary>The probe scheme (<see cref="LocalProbeScheme"/> or <see cref="FuseScheme"/>).</summary>
    public byte Scheme { get; }

    /// <summary>Items the layer was sized for.</summary>
    public long Capacity { get; }

    /// <summary>Keys the layer held when written.</summary>
    public long Count { get; }

    /// <summary>512-bit blocks of the layer's bit array.</summary>
    public int BlockCount { get; }

    /// <summary>Probes per key (k).</summary>
    public int Probes { get; }

    /// <summary>The rate the layer reaches at capacity.</summary>
    public double DesignFalsePositiveRate { get; }

    /// <summary>Bytes of the layer's bit array.</summary>
    public long BitBytes => (long)BlockCount * BlockProbe.BlockBytes;

    /// <summary>Parses and range-checks one descriptor; <paramref name="maxBitBytes"/> bounds its bit array.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static FilterSnapshotLayer Parse(ReadOnlySpan<byte> data, long maxBitBytes)
    {
        var reader = new FilterSnapshotReader(data);
        var capacity = reader.ReadInt64("layer capacity");
        var count = reader.ReadInt64("layer count");
        var blocks = reader.ReadUInt32("layer block count");
        var scheme = reader.ReadByte("probe scheme");
        var probes = reader.ReadByte("probes");
        var reserved = reader.ReadUInt16("layer reserved");
        var rate = reader.ReadDouble("layer design rate");
        if (blocks * (long)BlockProbe.BlockBytes > maxBitBytes)
        {
            throw new FilterSnapshotException(FilterSnapshotError.Oversize, $"Filter snapshot too large: a layer declares {blocks} blocks ({blocks * (long)BlockProbe.BlockBytes} bytes); at most {maxBitBytes} bytes are allowed.");
        }

        FilterSnapshotHeader.Expect(blocks is >= 1 and <= BlockedBloomFilter.MaxBlocks, $"expected 1 to {BlockedBloomFilter.MaxBlocks} blocks in a layer, got {blocks}");
        FilterSnapshotHeader.Expect(scheme is LocalProbeScheme or FuseScheme, $"expected probe scheme {LocalProbeScheme} or {FuseScheme}, got {scheme}");
        FilterSnapshotHeader.Expect(probes is >= 1 and <= BlockProbe.MaxProbes, $"expected 1 to {BlockProbe.MaxProbes} probes, got {probes}");
        FilterSnapshotHeader.Expect(reserved == 0, $"expected zero layer reserved bytes, got 0x{reserved:X4}");
        FilterSnapshotHeader.Expect(capacity >= 0, $"expected a layer capacity of at least 0, got {capacity}");
        FilterSnapshotHeader.Expect(count >= 0, $"expected a layer count of at least 0, got {count}");
        FilterSnapshotHeader.Expect(rate > 0 && rate < 1, $"expected a layer design rate in (0, 1), got {rate}");
        return new FilterSnapshotLayer(capacity, count, (int)blocks, probes, rate, scheme);
    }

    /// <summary>Writes the 32 descriptor bytes.</summary>
    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteInt64LittleEndian(destination, Capacity);
        BinaryPrimitives.WriteInt64LittleEndian(destination[8..], Count);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[16..], (uint)BlockCount);
        destination[20] = Scheme;
        destination[21] = (byte)Probes;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[22..], 0);
        BinaryPrimitives.WriteDoubleLittleEndian(destination[24..], DesignFalsePositiveRate);
    }
}
