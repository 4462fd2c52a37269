using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace ReadHistory.Core.Filters;

/// <summary>Bounds-checked little-endian reads over a snapshot; a short read names the field and the bytes missing.</summary>
internal ref struct FilterSnapshotReader
{
    private readonly ReadOnlySpan<byte> _data;

    public FilterSnapshotReader(ReadOnlySpan<byte> data) => _data = data;

    /// <summary>Offset of the next read.</summary>
    public int Offset { get; private set; }

    public ulong ReadUInt64(string field) => BinaryPrimitives.ReadUInt64LittleEndian(Take(8, field));

    public long ReadInt64(string field) => BinaryPrimitives.ReadInt64LittleEndian(Take(8, field));

    public uint ReadUInt32(string field) => BinaryPrimitives.ReadUInt32LittleEndian(Take(4, field));

    public ushort ReadUInt16(string field) => BinaryPrimitives.ReadUInt16LittleEndian(Take(2, field));

    public byte ReadByte(string field) => Take(1, field)[0];

    public double ReadDouble(string field) => BinaryPrimitives.ReadDoubleLittleEndian(Take(8, field));

    public ReadOnlySpan<byte> ReadBytes(int count, string field) => Take(count, field);

    // Inlined into the (per-filter) parsers; the message is built out of line, only when a read falls short.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ReadOnlySpan<byte> Take(int count, string field)
    {
        if (_data.Length - Offset < count)
        {
            ThrowTruncated(count, field, Offset, _data.Length - Offset);
        }

        var slice = _data.Slice(Offset, count);
        Offset += count;
        return slice;
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowTruncated(int count, string field, int offset, int left) =>
        throw new FilterSnapshotException(
            FilterSnapshotError.Truncated,
            $"Filter snapshot truncated: expected {count} bytes of {field} at offset {offset}, got {left}.");
}
