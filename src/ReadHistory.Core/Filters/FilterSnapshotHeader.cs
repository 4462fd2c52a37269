using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace ReadHistory.Core.Filters;

/// <summary>
/// The fixed 64-byte header of a filter snapshot (all integers little-endian). A stream reader parses it first
/// and checks <see cref="TotalLength"/> against its limit before buffering the rest.
/// </summary>
/// <remarks>
/// <code>
///  0        4        8                16                               32       36       40               48               56      64
///  +--------+--------+----------------+--------------------------------+--------+--------+----------------+----------------+-------+
///  | magic  |ver|hdr | seed (u64)     | stamp (16 bytes, opaque cursor) | layers | flags  | total length   | target rate    | zero  |
///  | "RHBF" |u16|u16 |                |                                 | (u32)  | (u32)  | (u64, incl CRC)| (f64)          | (u64) |
///  +--------+--------+----------------+--------------------------------+--------+--------+----------------+----------------+-------+
/// </code>
/// ver = 1, hdr = 64 (header bytes); flags bit 0 = capped, other bits zero. Then <see cref="FilterSnapshotLayer"/>
/// descriptors, the layers' bit arrays and a CRC-32C: see <see cref="FilterSnapshot"/>.
/// </remarks>
public readonly struct FilterSnapshotHeader : IEquatable<FilterSnapshotHeader>
{
    /// <summary>Header bytes.</summary>
    public const int Size = 64;

    /// <summary>The only version this build writes and reads.</summary>
    public const ushort CurrentVersion = 1;

    /// <summary>"RHBF" read as a little-endian u32.</summary>
    public const uint Magic = 0x4642_4852;

    /// <summary>Flag bit: the filter had reached its byte cap.</summary>
    public const uint CappedFlag = 1;

    /// <summary>Bytes of the stamp.</summary>
    public const int StampSize = 16;

    // The stamp's 16 bytes, held inline so that parsing a header allocates nothing.
    private readonly ulong _stampLow;
    private readonly ulong _stampHigh;

    /// <summary>Creates a header from its fields.</summary>
    public FilterSnapshotHeader(ulong seed, ReadOnlySpan<byte> stamp, int layerCount, bool capped, long totalLength, double targetFalsePositiveRate)
    {
        if (stamp.Length != StampSize)
        {
            throw new ArgumentException($"A stamp is {StampSize} bytes; got {stamp.Length}.", nameof(stamp));
        }

        Seed = seed;
        _stampLow = BinaryPrimitives.ReadUInt64LittleEndian(stamp);
        _stampHigh = BinaryPrimitives.ReadUInt64LittleEndian(stamp[8..]);
        LayerCount = layerCount;
        IsCapped = capped;
        TotalLength = totalLength;
        TargetFalsePositiveRate = targetFalsePositiveRate;
    }

    /// <summary>Seed of the key hash the bits were set with.</summary>
    public ulong Seed { get; }

    /// <summary>The opaque 16-byte stamp (the change-stream cursor the snapshot is consistent with), as a new array.</summary>
    public byte[] Stamp
    {
        get
        {
            var stamp = new byte[StampSize];
            CopyStampTo(stamp);
            return stamp;
        }
    }

    /// <summary>Number of layers that follow.</summary>
    public int LayerCount { get; }

    /// <summary>True when the filter had reached its byte cap.</summary>
    public bool IsCapped { get; }

    /// <summary>Bytes of the whole snapshot, header and checksum included.</summary>
    public long TotalLength { get; }

    /// <summary>The pool's target rate when the snapshot was written (informational).</summary>
    public double TargetFalsePositiveRate { get; }

    /// <summary>Parses and checks the header (magic, version, header size, flags, field ranges); the first 64 bytes are enough.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static FilterSnapshotHeader Parse(ReadOnlySpan<byte> data)
    {
        if (data.Length < Size)
        {
            throw new FilterSnapshotException(FilterSnapshotError.Truncated, $"Filter snapshot truncated: expected a {Size}-byte header, got {data.Length} bytes.");
        }

        var reader = new FilterSnapshotReader(data);
        var magic = reader.ReadUInt32("magic");
        if (magic != Magic)
        {
            throw new FilterSnapshotException(FilterSnapshotError.BadMagic, $"Not a filter snapshot: expected magic \"RHBF\" (52-48-42-46), got {Convert.ToHexString(data[..4])}.");
        }

        var version = reader.ReadUInt16("version");
        if (version != CurrentVersion)
        {
            throw new FilterSnapshotException(FilterSnapshotError.UnsupportedVersion, $"Unsupported filter snapshot version: expected {CurrentVersion}, got {version}.");
        }

        var headerSize = reader.ReadUInt16("header size");
        Expect(headerSize == Size, $"expected header size {Size}, got {headerSize}");
        var seed = reader.ReadUInt64("seed");
        var stamp = reader.ReadBytes(StampSize, "stamp");
        var layers = reader.ReadUInt32("layer count");
        Expect(layers is >= 1 and <= BloomFilterOptions.MaxLayers, $"expected 1 to {BloomFilterOptions.MaxLayers} layers, got {layers}");
        var flags = reader.ReadUInt32("flags");
        Expect((flags & ~CappedFlag) == 0, $"expected flags 0 or {CappedFlag}, got 0x{flags:X8}");
        var total = reader.ReadInt64("total length");
        Expect(total >= Size, $"expected a total length of at least {Size}, got {total}");
        var target = reader.ReadDouble("target rate");
        Expect(target > 0 && target < 1, $"expected a target rate in (0, 1), got {target}");
        var reserved = reader.ReadUInt64("reserved");
        Expect(reserved == 0, $"expected zero reserved bytes, got 0x{reserved:X16}");
        return new FilterSnapshotHeader(seed, stamp, (int)layers, (flags & CappedFlag) != 0, total, target);
    }

    /// <summary>Compares two headers field by field.</summary>
    public static bool operator ==(FilterSnapshotHeader left, FilterSnapshotHeader right) => left.Equals(right);

    /// <summary>Compares two headers field by field.</summary>
    public static bool operator !=(FilterSnapshotHeader left, FilterSnapshotHeader right) => !left.Equals(right);

    /// <summary>Copies the 16-byte stamp into <paramref name="destination"/>.</summary>
    public void CopyStampTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, _stampLow);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], _stampHigh);
    }

    /// <inheritdoc />
    public bool Equals(FilterSnapshotHeader other) =>
        Seed == other.Seed && _stampLow == other._stampLow && _stampHigh == other._stampHigh && LayerCount == other.LayerCount
        && IsCapped == other.IsCapped && TotalLength == other.TotalLength && TargetFalsePositiveRate.Equals(other.TargetFalsePositiveRate);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is FilterSnapshotHeader other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Seed, _stampLow, _stampHigh, LayerCount, IsCapped, TotalLength, TargetFalsePositiveRate);

    /// <summary>Writes the 64 header bytes.</summary>
    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[4..], CurrentVersion);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], Size);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], Seed);
        CopyStampTo(destination[16..]);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[32..], (uint)LayerCount);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[36..], IsCapped ? CappedFlag : 0);
        BinaryPrimitives.WriteInt64LittleEndian(destination[40..], TotalLength);
        BinaryPrimitives.WriteDoubleLittleEndian(destination[48..], TargetFalsePositiveRate);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[56..], 0);
    }

    // The message is formatted only when the condition fails: a snapshot read runs a dozen checks, and a warm start
    // reads a million snapshots.
    internal static void Expect(bool condition, [InterpolatedStringHandlerArgument(nameof(condition))] ref ExpectMessage what)
    {
        if (!condition)
        {
            throw new FilterSnapshotException(FilterSnapshotError.Inconsistent, $"Invalid filter snapshot: {what.ToStringAndClear()}.");
        }
    }

    /// <summary>Formats a failed check's message; appends nothing while the check holds.</summary>
    [InterpolatedStringHandler]
    internal ref struct ExpectMessage
    {
        private DefaultInterpolatedStringHandler _inner;

        /// <summary>Starts the message only when <paramref name="condition"/> is false.</summary>
        public ExpectMessage(int literalLength, int formattedCount, bool condition, out bool shouldAppend)
        {
            _inner = condition ? default : new DefaultInterpolatedStringHandler(literalLength, formattedCount);
            shouldAppend = !condition;
        }

        /// <summary>Appends literal text.</summary>
        public void AppendLiteral(string value) => _inner.AppendLiteral(value);

        /// <summary>Appends a formatted value.</summary>
        public void AppendFormatted<T>(T value) => _inner.AppendFormatted(value);

        /// <summary>Appends a formatted value with a format string.</summary>
        public void AppendFormatted<T>(T value, string? format) => _inner.AppendFormatted(value, format);

        /// <summary>The message (empty when the check held).</summary>
        public string ToStringAndClear() => _inner.ToStringAndClear();
    }
}
