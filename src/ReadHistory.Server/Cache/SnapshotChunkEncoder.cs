using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Google.Protobuf;
using ReadHistory.Api.Internal.V1;
using ReadHistory.Core.Filters;

namespace ReadHistory.Server.Cache;

/// <summary>
/// Encodes the SnapshotChunk messages of a Snapshot stream (protobuf wire format) straight into one pooled buffer:
/// each filter's snapshot is written in place after its part header, so a chunk costs no message object per filter,
/// no serializer pass and no copy beyond the snapshot itself. The parts of a chunk (headers included) stay within
/// <c>chunkBytes</c>; the first chunk starts with the cursor and the layout, the last ends with its flags.
/// </summary>
/// <remarks>
/// The bytes are what the generated serializer writes for the same message but for the order of fields (a parser
/// takes fields in any order): fields with their default value are left out, varints are minimal. Not thread-safe.
/// </remarks>
internal sealed class SnapshotChunkEncoder : IDisposable
{
    // Tags (field number << 3 | wire type) of SnapshotChunk's fields, from the generated code's field numbers.
    private const byte CursorTag = (SnapshotChunk.CursorFieldNumber << 3) | (int)WireFormat.WireType.LengthDelimited;
    private const byte FiltersTag = (SnapshotChunk.FiltersFieldNumber << 3) | (int)WireFormat.WireType.LengthDelimited;
    private const byte LastTag = (SnapshotChunk.LastFieldNumber << 3) | (int)WireFormat.WireType.Varint;
    private const byte TruncatedTag = (SnapshotChunk.TruncatedFieldNumber << 3) | (int)WireFormat.WireType.Varint;
    private const byte LayoutSaltTag = (SnapshotChunk.LayoutSaltFieldNumber << 3) | (int)WireFormat.WireType.Fixed64;
    private const byte UsersTag = (SnapshotChunk.UsersFieldNumber << 3) | (int)WireFormat.WireType.Varint;
    private const byte PoolBytesTag = (SnapshotChunk.PoolBytesFieldNumber << 3) | (int)WireFormat.WireType.Varint;

    // UserFilterChunk's.
    private const byte UserIdTag = (UserFilterChunk.UserIdFieldNumber << 3) | (int)WireFormat.WireType.Fixed64;
    private const byte TotalBytesTag = (UserFilterChunk.TotalBytesFieldNumber << 3) | (int)WireFormat.WireType.Varint;
    private const byte OffsetTag = (UserFilterChunk.OffsetFieldNumber << 3) | (int)WireFormat.WireType.Varint;
    private const byte DataTag = (UserFilterChunk.DataFieldNumber << 3) | (int)WireFormat.WireType.LengthDelimited;

    // Most bytes the fields of a chunk around its parts take (tags, flags, layout), the cursor aside.
    private const int FieldBytes = 64;

    // The filters' own 16-byte stamp (used by the Redis tier) is zero here: the stream's cursor stands for them all.
    internal static readonly byte[] ZeroStamp = new byte[FilterSnapshotHeader.StampSize];

    private readonly SnapshotBuffer _buffer;
    private readonly int _chunkBytes;
    private int _partsStart;

    /// <summary>Starts the first chunk: the cursor and the layout, then room for <paramref name="chunkBytes"/> of parts.</summary>
    public SnapshotChunkEncoder(int chunkBytes, ReadOnlySpan<byte> cursor, SnapshotLayout layout)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkBytes, SnapshotSender.MinChunkBytes);
        _chunkBytes = chunkBytes;
        _buffer = new SnapshotBuffer(chunkBytes + cursor.Length + FieldBytes);
        if (!cursor.IsEmpty)
        {
            WriteTag(CursorTag);
            WriteVarint((ulong)cursor.Length);
            cursor.CopyTo(_buffer.GetSpan(cursor.Length));
            _buffer.Advance(cursor.Length);
        }

        if (layout.Salt != 0)
        {
            WriteTag(LayoutSaltTag);
            BinaryPrimitives.WriteUInt64LittleEndian(_buffer.GetSpan(8), layout.Salt);
            _buffer.Advance(8);
        }

        WriteVarintField(UsersTag, layout.Users);
        WriteVarintField(PoolBytesTag, layout.PoolBytes);
        _partsStart = _buffer.Written;
    }

    /// <summary>Bytes of filter parts (headers included) in the chunk being built.</summary>
    public int PartBytes => _buffer.Written - _partsStart;

    /// <summary>
    /// Appends a whole filter as one part if it fits in the room the chunk has left, given <paramref name="estimate"/>
    /// (its <see cref="UserFilter.SnapshotLength"/> read a moment ago); returns its snapshot's length, or −1 (nothing
    /// appended) when it does not fit. Writers may run meanwhile: the part holds the snapshot as written, whatever its
    /// length turns out to be.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public long TryAppend(ulong userId, UserFilter filter, long estimate)
    {
        ArgumentNullException.ThrowIfNull(filter);
        if (estimate > _chunkBytes || estimate < 0)
        {
            return -1;
        }

        var head = HeadBytes(userId, (int)estimate, 0, (int)estimate);
        if (PartBytes + head + estimate > _chunkBytes)
        {
            return -1;
        }

        var start = _buffer.Written;
        _buffer.GetSpan(head);
        _buffer.Advance(head);
        filter.WriteSnapshot(_buffer, ZeroStamp);
        var length = _buffer.Written - start - head;
        var actualHead = head;
        if (length != estimate)
        {
            // A layer grew between the estimate and the copy: the header may take another byte or two.
            actualHead = HeadBytes(userId, length, 0, length);
            if (PartBytes - head + actualHead > _chunkBytes)
            {
                _buffer.Rewind(start);
                return -1;
            }

            MoveData(start + head, start + actualHead, length);
        }

        WriteHead(_buffer.WrittenSpan(start, actualHead), userId, length, 0, length);
        return length;
    }

    /// <summary>
    /// Appends as much of a filter's snapshot bytes from <paramref name="offset"/> as the chunk has room for (as one
    /// part, of a filter of <paramref name="total"/> bytes); returns the bytes taken, 0 when the chunk is full.
    /// </summary>
    public int AppendPart(ulong userId, int total, int offset, ReadOnlySpan<byte> rest)
    {
        var room = _chunkBytes - PartBytes;
        var take = Math.Min(rest.Length, room);
        while (take > 0 && HeadBytes(userId, total, offset, take) + take > room)
        {
            take -= HeadBytes(userId, total, offset, take) + take - room;
        }

        if (take <= 0)
        {
            return 0;
        }

        var head = HeadBytes(userId, total, offset, take);
        var span = _buffer.GetSpan(head + take);
        WriteHead(span[..head], userId, total, offset, take);
        rest[..take].CopyTo(span[head..]);
        _buffer.Advance(head + take);
        return take;
    }

    /// <summary>Ends the chunk with its flags; returns its encoded bytes, valid until <see cref="Reset"/>.</summary>
    public ReadOnlyMemory<byte> Finish(bool last, bool truncated)
    {
        WriteVarintField(LastTag, last ? 1UL : 0);
        WriteVarintField(TruncatedTag, truncated ? 1UL : 0);
        return _buffer.Slice(0, _buffer.Written);
    }

    /// <summary>Starts the next chunk (once the transport has taken the last one's bytes).</summary>
    public void Reset()
    {
        _buffer.Clear();
        _partsStart = 0;
    }

    /// <summary>Returns the buffer to the pool.</summary>
    public void Dispose() => _buffer.Dispose();

    /// <summary>Bytes of a part's framing: its tag and length in the chunk, and its fields but the data bytes.</summary>
    internal static int HeadBytes(ulong userId, int total, int offset, int length)
    {
        var inner = InnerBytes(userId, total, offset, length);
        return 1 + CodedOutputStream.ComputeLengthSize(inner) + inner - length;
    }

    // user_id (tag + fixed64, left out when 0), total_bytes, offset (left out when 0), data: tag + varint each.
    private static int InnerBytes(ulong userId, int total, int offset, int length) =>
        (userId == 0 ? 0 : 9)
        + 1 + CodedOutputStream.ComputeLengthSize(total)
        + (offset == 0 ? 0 : 1 + CodedOutputStream.ComputeLengthSize(offset))
        + 1 + CodedOutputStream.ComputeLengthSize(length) + length;

    private static void WriteHead(Span<byte> head, ulong userId, int total, int offset, int length)
    {
        var at = 0;
        head[at++] = FiltersTag;
        at += ProtoWireWriter.WriteVarint(head[at..], (ulong)InnerBytes(userId, total, offset, length));
        if (userId != 0)
        {
            head[at++] = UserIdTag;
            BinaryPrimitives.WriteUInt64LittleEndian(head[at..], userId);
            at += 8;
        }

        head[at++] = TotalBytesTag;
        at += ProtoWireWriter.WriteVarint(head[at..], (ulong)total);
        if (offset != 0)
        {
            head[at++] = OffsetTag;
            at += ProtoWireWriter.WriteVarint(head[at..], (ulong)offset);
        }

        head[at++] = DataTag;
        at += ProtoWireWriter.WriteVarint(head[at..], (ulong)length);
        if (at != head.Length)
        {
            throw new InvalidOperationException($"a part header of {at} bytes was given {head.Length}");
        }
    }

    /// <summary>Moves the <paramref name="length"/> bytes at <paramref name="from"/> to <paramref name="to"/>, the buffer ending after them.</summary>
    private void MoveData(int from, int to, int length)
    {
        if (to > from)
        {
            _buffer.GetSpan(to - from);
            _buffer.Advance(to - from);
            _buffer.WrittenSpan(from, length).CopyTo(_buffer.WrittenSpan(to, length));
        }
        else
        {
            _buffer.WrittenSpan(from, length).CopyTo(_buffer.WrittenSpan(to, length));
            _buffer.Rewind(to + length);
        }
    }

    private void WriteTag(byte tag)
    {
        _buffer.GetSpan(1)[0] = tag;
        _buffer.Advance(1);
    }

    private void WriteVarint(ulong value) => _buffer.Advance(ProtoWireWriter.WriteVarint(_buffer.GetSpan(10), value));

    private void WriteVarintField(byte tag, ulong value)
    {
        if (value != 0)
        {
            WriteTag(tag);
            WriteVarint(value);
        }
    }
}

/// <summary>What the first chunk of a Snapshot stream says of the sender's index: its hash salt, the users it sends, the bytes its pool holds.</summary>
internal readonly record struct SnapshotLayout(ulong Salt, ulong Users, ulong PoolBytes);
