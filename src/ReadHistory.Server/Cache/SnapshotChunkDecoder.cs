using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Google.Protobuf;
using ReadHistory.Api.Internal.V1;

namespace ReadHistory.Server.Cache;

/// <summary>
/// Decodes SnapshotChunk messages (protobuf wire format) for the receiving side of warm start without an object or a
/// copy per filter: each payload is copied once into a pooled buffer, and its parts are kept as
/// <see cref="SnapshotPart"/> values over that buffer in a <see cref="DecodedChunk"/>. <see cref="Decode"/> hands the
/// transport a SnapshotChunk with every field but the filters; <see cref="TakeDecoded"/> then gives the parts,
/// and <see cref="DecodedChunk.Dispose"/> returns the buffer once the chunk is no longer read.
/// </summary>
/// <remarks>
/// The same message as the generated parser gives for valid input (tested against it) but for unknown fields, which
/// are skipped rather than kept; a repeated scalar field keeps its last value, a repeated <c>filters</c> field appends.
/// Anything malformed (a truncated field, a length past the end, a varint over 10 bytes, field number 0, a group) is
/// an <see cref="InvalidDataException"/> naming the field and the offset.
/// </remarks>
internal sealed class SnapshotChunkDecoder
{
    private const int WireVarint = ProtoWireReader.WireVarint;
    private const int WireFixed64 = ProtoWireReader.WireFixed64;
    private const int WireLength = ProtoWireReader.WireLength;

    // Chunks decoded and not yet taken, oldest first (the transport decodes one message per read, the receiving loop
    // takes it right after).
    private readonly ConcurrentQueue<DecodedChunk> _decoded = new();

    // Part lists of disposed chunks, reused with their capacity (a list grown to a chunk's ~1,000 parts is 40 KB).
    private readonly ConcurrentBag<List<SnapshotPart>> _lists = [];

    /// <summary>Chunks decoded and not yet taken.</summary>
    public int Pending => _decoded.Count;

    /// <summary>
    /// Decodes one payload (the response deserializer of <see cref="SnapshotMethods.Decoding"/>): the
    /// message it returns carries every field but the filters, which wait in <see cref="TakeDecoded"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public SnapshotChunk Decode(ReadOnlySequence<byte> payload)
    {
        var length = checked((int)payload.Length);
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
        var parts = _lists.TryTake(out var list) ? list : [];
        try
        {
            payload.CopyTo(buffer);
            var chunk = ParseInto(buffer.AsMemory(0, length), parts);
            _decoded.Enqueue(new DecodedChunk(buffer, parts, _lists));
            return chunk;
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            parts.Clear();
            _lists.Add(parts);
            throw;
        }
    }

    /// <summary>The parts of the oldest chunk <see cref="Decode"/> returned and nobody took yet.</summary>
    public DecodedChunk TakeDecoded() =>
        _decoded.TryDequeue(out var chunk) ? chunk : throw new InvalidOperationException("no decoded chunk is waiting");

    /// <summary>Parses <paramref name="message"/>, appending its parts to <paramref name="parts"/>; returns the other fields.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static SnapshotChunk ParseInto(ReadOnlyMemory<byte> message, List<SnapshotPart> parts)
    {
        var chunk = new SnapshotChunk();
        var reader = new ProtoWireReader(message.Span, 0, "SnapshotChunk", "SnapshotChunk");
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
                    parts.Add(ParsePart(message.Slice(reader.Offset - body, body)));
                    break;
                case SnapshotChunk.LastFieldNumber when wire == WireVarint:
                    chunk.Last = reader.ReadVarint("last") != 0;
                    break;
                case SnapshotChunk.TruncatedFieldNumber when wire == WireVarint:
                    chunk.Truncated = reader.ReadVarint("truncated") != 0;
                    break;
                case SnapshotChunk.LayoutSaltFieldNumber when wire == WireFixed64:
                    chunk.LayoutSalt = reader.ReadFixed64("layout_salt");
                    break;
                case SnapshotChunk.UsersFieldNumber when wire == WireVarint:
                    chunk.Users = reader.ReadVarint("users");
                    break;
                case SnapshotChunk.PoolBytesFieldNumber when wire == WireVarint:
                    chunk.PoolBytes = reader.ReadVarint("pool_bytes");
                    break;
                default:
                    reader.Skip(field, wire);
                    break;
            }
        }

        return chunk;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static SnapshotPart ParsePart(ReadOnlyMemory<byte> message)
    {
        ulong userId = 0, totalBytes = 0, offset = 0;
        var data = ReadOnlyMemory<byte>.Empty;
        var reader = new ProtoWireReader(message.Span, 0, "SnapshotChunk", "UserFilterChunk");
        while (!reader.AtEnd)
        {
            var (field, wire) = reader.ReadTag();
            switch (field)
            {
                case UserFilterChunk.UserIdFieldNumber when wire == WireFixed64:
                    userId = reader.ReadFixed64("user_id");
                    break;
                case UserFilterChunk.TotalBytesFieldNumber when wire == WireVarint:
                    totalBytes = reader.ReadVarint("total_bytes");
                    break;
                case UserFilterChunk.OffsetFieldNumber when wire == WireVarint:
                    offset = reader.ReadVarint("offset");
                    break;
                case UserFilterChunk.DataFieldNumber when wire == WireLength:
                    var length = reader.ReadLengthDelimited("data").Length;
                    data = message.Slice(reader.Offset - length, length);
                    break;
                default:
                    reader.Skip(field, wire);
                    break;
            }
        }

        return new SnapshotPart(userId, totalBytes, offset, data);
    }
}

/// <summary>One filter or filter part of a Snapshot stream: UserFilterChunk's fields, its data a view of a decoded chunk's buffer.</summary>
internal readonly record struct SnapshotPart(ulong UserId, ulong TotalBytes, ulong Offset, ReadOnlyMemory<byte> Data);

/// <summary>The parts of one decoded chunk over a pooled buffer; disposing it returns the buffer and the list (read no part after).</summary>
internal sealed class DecodedChunk(byte[] buffer, List<SnapshotPart> parts, ConcurrentBag<List<SnapshotPart>> lists) : IDisposable
{
    private byte[]? _buffer = buffer;

    /// <summary>The chunk's filters and filter parts, in order.</summary>
    public List<SnapshotPart> Parts { get; } = parts;

    /// <inheritdoc />
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _buffer, null) is { } returned)
        {
            ArrayPool<byte>.Shared.Return(returned);
            Parts.Clear();
            lists.Add(Parts);
        }
    }
}
