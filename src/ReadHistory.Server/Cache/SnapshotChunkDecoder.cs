using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using Google.Protobuf;
using ReadHistory.Api.Internal.V1;

namespace ReadHistory.Server.Cache;

/// <summary>
/// Decodes SnapshotChunk messages (protobuf wire format) for the receiving side of warm start without protobuf's copy of
/// every filter: each payload is copied once into a pooled buffer, and every part's <c>data</c> is a view of it
/// (<see cref="UnsafeByteOperations.UnsafeWrap(ReadOnlyMemory{byte})"/>). Buffers come back to the pool through
/// <see cref="ReleaseOldest"/>, one per decoded chunk, in decoding order, once the chunk is no longer read.
/// </summary>
/// <remarks>
/// The same message as the generated parser gives for valid input (tested against it): unknown fields are skipped, a
/// repeated scalar field keeps its last value, a repeated <c>filters</c> field appends. Anything malformed (a
/// truncated field, a length past the end, a varint over 10 bytes, field number 0, a group) is an
/// <see cref="InvalidDataException"/> naming the field and the offset.
/// </remarks>
internal sealed class SnapshotChunkDecoder
{
    private const int WireVarint = 0;
    private const int WireFixed64 = 1;
    private const int WireLength = 2;
    private const int WireFixed32 = 5;

    // Buffers lent to decoded chunks, oldest first.
    private readonly ConcurrentQueue<byte[]> _lent = new();

    /// <summary>Buffers lent to chunks not yet released.</summary>
    public int Lent => _lent.Count;

    /// <summary>Decodes one payload (the <see cref="Rpc.Method{TRequest, TResponse}.ResponseDecoder"/> of a Snapshot call).</summary>
    public SnapshotChunk Decode(ReadOnlySequence<byte> payload)
    {
        var length = checked((int)payload.Length);
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
        try
        {
            payload.CopyTo(buffer);
            var chunk = Parse(buffer.AsMemory(0, length));
            _lent.Enqueue(buffer);
            return chunk;
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    /// <summary>Returns the buffer of the oldest chunk still lent (its filters' data must no longer be read).</summary>
    public void ReleaseOldest()
    {
        if (_lent.TryDequeue(out var buffer))
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Parses a whole SnapshotChunk from <paramref name="message"/>, whose memory the parts' data refer to.</summary>
    internal static SnapshotChunk Parse(ReadOnlyMemory<byte> message)
    {
        var chunk = new SnapshotChunk();
        var reader = new WireReader(message.Span, 0, "SnapshotChunk");
        while (!reader.AtEnd)
        {
            var (field, wire) = reader.ReadTag();
            switch (field)
            {
                case SnapshotChunk.CursorFieldNumber when wire == WireLength:
                    chunk.Cursor = ByteString.CopyFrom(reader.ReadLengthDelimited("cursor"));
                    break;
                case SnapshotChunk.FiltersFieldNumber when wire == WireLength:
                    var body = reader.ReadLengthDelimited("filters").Length;
                    chunk.Filters.Add(ParsePart(message.Slice(reader.Offset - body, body)));
                    break;
                case SnapshotChunk.LastFieldNumber when wire == WireVarint:
                    chunk.Last = reader.ReadVarint("last") != 0;
                    break;
                default:
                    reader.Skip(field, wire);
                    break;
            }
        }

        return chunk;
    }

    private static UserFilterChunk ParsePart(ReadOnlyMemory<byte> message)
    {
        var part = new UserFilterChunk();
        var reader = new WireReader(message.Span, 0, "UserFilterChunk");
        while (!reader.AtEnd)
        {
            var (field, wire) = reader.ReadTag();
            switch (field)
            {
                case UserFilterChunk.UserIdFieldNumber when wire == WireFixed64:
                    part.UserId = reader.ReadFixed64("user_id");
                    break;
                case UserFilterChunk.TotalBytesFieldNumber when wire == WireVarint:
                    part.TotalBytes = reader.ReadVarint("total_bytes");
                    break;
                case UserFilterChunk.OffsetFieldNumber when wire == WireVarint:
                    part.Offset = reader.ReadVarint("offset");
                    break;
                case UserFilterChunk.DataFieldNumber when wire == WireLength:
                    var length = reader.ReadLengthDelimited("data").Length;
                    part.Data = UnsafeByteOperations.UnsafeWrap(message.Slice(reader.Offset - length, length));
                    break;
                default:
                    reader.Skip(field, wire);
                    break;
            }
        }

        return part;
    }

    /// <summary>A cursor over protobuf wire bytes that throws <see cref="InvalidDataException"/> on anything malformed.</summary>
    private ref struct WireReader(ReadOnlySpan<byte> data, int offset, string message)
    {
        private readonly ReadOnlySpan<byte> _data = data;

        public int Offset { get; private set; } = offset;

        public readonly bool AtEnd => Offset >= _data.Length;

        public (int Field, int Wire) ReadTag()
        {
            var at = Offset;
            var tag = ReadVarint("tag");
            var field = tag >> 3;
            if (field is 0 or > (1 << 29) - 1)
            {
                throw Malformed($"field number {field} at offset {at}; expected 1 to {(1 << 29) - 1}");
            }

            return ((int)field, (int)(tag & 7));
        }

        public ulong ReadVarint(string field)
        {
            ulong value = 0;
            for (var shift = 0; shift < 70; shift += 7)
            {
                if (Offset >= _data.Length)
                {
                    throw Malformed($"{field} ends inside a varint at offset {Offset}");
                }

                var b = _data[Offset++];
                value |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    return value;
                }
            }

            throw Malformed($"{field}: a varint longer than 10 bytes at offset {Offset}");
        }

        public ulong ReadFixed64(string field) => BinaryPrimitives.ReadUInt64LittleEndian(Take(8, field));

        public ReadOnlySpan<byte> ReadLengthDelimited(string field)
        {
            var length = ReadVarint(field);
            if (length > (ulong)(_data.Length - Offset))
            {
                throw Malformed($"{field} declares {length} bytes at offset {Offset}; only {_data.Length - Offset} remain");
            }

            return Take((int)length, field);
        }

        public void Skip(int field, int wire)
        {
            const string Name = "an unknown field";
            switch (wire)
            {
                case WireVarint:
                    ReadVarint(Name);
                    break;
                case WireFixed64:
                    Take(8, Name);
                    break;
                case WireLength:
                    ReadLengthDelimited(Name);
                    break;
                case WireFixed32:
                    Take(4, Name);
                    break;
                default:
                    throw Malformed($"field {field} has wire type {wire} at offset {Offset}; expected 0, 1, 2 or 5");
            }
        }

        private ReadOnlySpan<byte> Take(int count, string field)
        {
            if (_data.Length - Offset < count)
            {
                throw Malformed($"{field} needs {count} bytes at offset {Offset}; only {_data.Length - Offset} remain");
            }

            var span = _data.Slice(Offset, count);
            Offset += count;
            return span;
        }

        private readonly InvalidDataException Malformed(string what) => new($"SnapshotChunk bytes are malformed ({message}): {what}.");
    }
}
