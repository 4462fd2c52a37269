using Google.Protobuf;
using ReadHistory.Api.Internal.V1;
using ReadHistory.Rpc;

namespace ReadHistory.Server.Cache;

/// <summary>
/// Cuts the filters written to a <see cref="SnapshotBuffer"/> into <see cref="SnapshotChunk"/> messages of at most
/// <c>chunkBytes</c> of filter data, splitting a filter over consecutive chunks where it does not fit, and writes them.
/// The first chunk written carries the cursor and the layout; the one written by <c>FlushAsync(last: true)</c> is marked last (and
/// truncated when <see cref="Truncated"/> was set).
/// </summary>
internal sealed class SnapshotChunkPacker(IAsyncStreamWriter<SnapshotChunk> stream, SnapshotBuffer buffer, int chunkBytes, ReadOnlyMemory<byte> cursor, SnapshotLayout layout)
{
    private readonly List<(ulong UserId, int Start, int Length)> _filters = [];
    private bool _firstSent;

    /// <summary>Set when the sender stopped at the receiver's byte limit with filters left: the last chunk says so.</summary>
    public bool Truncated { get; set; }

    /// <summary>Chunks written so far.</summary>
    public int ChunksWritten { get; private set; }

    /// <summary>Records that the buffer's bytes [start, start + length) are the whole snapshot of a user's filter.</summary>
    public void Add(ulong userId, int start, int length) => _filters.Add((userId, start, length));

    /// <summary>Writes every filter added since the last flush, then clears the buffer for reuse.</summary>
    public async Task FlushAsync(bool last, CancellationToken cancellationToken)
    {
        var chunk = NewChunk();
        var room = chunkBytes;
        foreach (var (userId, start, length) in _filters)
        {
            for (var offset = 0; offset < length;)
            {
                if (room == 0)
                {
                    await WriteAsync(chunk, cancellationToken).ConfigureAwait(false);
                    chunk = NewChunk();
                    room = chunkBytes;
                }

                var take = Math.Min(room, length - offset);
                chunk.Filters.Add(new UserFilterChunk
                {
                    UserId = userId,
                    TotalBytes = (ulong)length,
                    Offset = (ulong)offset,
                    // No copy: the transport serializes the chunk before WriteAsync completes, and only then is the buffer reused.
                    Data = UnsafeByteOperations.UnsafeWrap(buffer.Slice(start + offset, take)),
                });
                offset += take;
                room -= take;
            }
        }

        _filters.Clear();
        if (chunk.Filters.Count > 0 || last)
        {
            chunk.Last = last;
            chunk.Truncated = last && Truncated;
            await WriteAsync(chunk, cancellationToken).ConfigureAwait(false);
        }

        buffer.Clear();
    }

    private SnapshotChunk NewChunk()
    {
        var chunk = new SnapshotChunk();
        if (!_firstSent)
        {
            chunk.Cursor = ByteString.CopyFrom(cursor.Span);
            chunk.LayoutSalt = layout.Salt;
            chunk.Users = layout.Users;
            chunk.PoolBytes = layout.PoolBytes;
        }

        return chunk;
    }

    private async Task WriteAsync(SnapshotChunk chunk, CancellationToken cancellationToken)
    {
        await stream.WriteAsync(chunk, cancellationToken).ConfigureAwait(false);
        _firstSent = true;
        ChunksWritten++;
    }
}

/// <summary>What the first chunk of a Snapshot stream says of the sender's index: its hash salt, the users it sends, the bytes its pool holds.</summary>
internal readonly record struct SnapshotLayout(ulong Salt, ulong Users, ulong PoolBytes);
