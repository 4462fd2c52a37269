using Google.Protobuf;
using ReadHistory.Api.Internal.V1;
using ReadHistory.Core.Filters;
using ReadHistory.Rpc;

namespace ReadHistory.Server.Cache;

/// <summary>
/// The sending side of warm start (CacheNode.Snapshot): the node's filters of one pool, hottest first, each in
/// <see cref="UserFilter"/>'s snapshot encoding, packed into chunks of at most <c>max_chunk_bytes</c> of filter data,
/// after the change-stream cursor read before the first filter and the index layout they come in.
/// </summary>
/// <remarks>
/// Memory stays bounded by about one chunk (plus one filter larger than a chunk): filters are serialized one at a time
/// into a pooled <see cref="SnapshotBuffer"/>, the chunk's parts reference that buffer without a copy, and the buffer
/// is reused once the transport has taken the chunk. Filters keep taking writes meanwhile; each is copied with every
/// bit set before its own copy began, and anything later is re-applied by the receiver from the cursor. Users
/// installed after the ranking are not sent (the receiver rebuilds them on a miss); capped markers are not sent.
/// </remarks>
internal sealed class SnapshotSender(SnapshotCursorSource cursors)
{
    /// <summary>Filter data per chunk when the request leaves it 0.</summary>
    public const int DefaultChunkBytes = 1 << 20;

    /// <summary>The smallest chunk honoured (smaller requests are raised to it).</summary>
    public const int MinChunkBytes = 64;

    /// <summary>The largest chunk honoured (larger requests are lowered to it), well under a receiver's message limit.</summary>
    public const int MaxChunkBytes = 4 << 20;

    // Filters ahead of the one written whose first bytes are asked for: each lives anywhere on the heap.
    private const int PrefetchDistance = 4;

    // Warm start carries the cursor in the first chunk; the filters' own 16-byte stamp (used by the Redis tier) is zero.
    private static readonly byte[] ZeroStamp = new byte[FilterSnapshotHeader.StampSize];

    /// <summary>The chunk size a request asks for, after defaults and limits.</summary>
    public static int ChunkBytesFor(SnapshotRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.MaxChunkBytes == 0 ? DefaultChunkBytes : (int)Math.Clamp(request.MaxChunkBytes, MinChunkBytes, MaxChunkBytes);
    }

    /// <summary>Streams <paramref name="cache"/>'s filters as the request asks; returns the filter bytes sent.</summary>
    public async Task<long> SendAsync(ReadThroughCache cache, SnapshotRequest request, IAsyncStreamWriter<SnapshotChunk> stream, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cache);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(stream);

        // The cursor first: every bit a change after it sets is either in a copied filter or replayed by the receiver.
        var cursor = cursors.Current;
        var filters = cache.Filters;
        var layout = new SnapshotLayout(filters.LayoutSalt, 0, (ulong)filters.Bytes);
        var ranked = filters.RankHottestFirst();
        var chunkBytes = ChunkBytesFor(request);
        var maxBytes = request.MaxBytes == 0 ? long.MaxValue : (long)Math.Min(request.MaxBytes, long.MaxValue);
        using var buffer = new SnapshotBuffer(chunkBytes + (64 << 10));
        var packer = new SnapshotChunkPacker(stream, buffer, chunkBytes, cursor, layout with { Users = (ulong)ranked.Length });
        long sent = 0;
        // In table order (each CLOCK class a sweep over the table): sequential memory here, and for a receiver that
        // adopts the layout (same salt, table sized for all) sequential inserts there.
        for (var i = 0; i < ranked.Length; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (i + PrefetchDistance < ranked.Length)
            {
                MemoryHints.Prefetch(ranked[i + PrefetchDistance].Held);
            }

            var entry = ranked[i];
            if (entry.Removed || entry.Filter is not { } filter)
            {
                continue;
            }

            var estimate = filter.SnapshotLength;
            if (sent + estimate > maxBytes)
            {
                packer.Truncated = true;
                break;
            }

            if (buffer.Written > 0 && buffer.Written + estimate > chunkBytes)
            {
                await packer.FlushAsync(last: false, cancellationToken).ConfigureAwait(false);
            }

            var start = buffer.Written;
            filter.WriteSnapshot(buffer, ZeroStamp);
            packer.Add(entry.UserId, start, buffer.Written - start);
            sent += buffer.Written - start;
            if (buffer.Written >= chunkBytes)
            {
                await packer.FlushAsync(last: false, cancellationToken).ConfigureAwait(false);
            }
        }

        await packer.FlushAsync(last: true, cancellationToken).ConfigureAwait(false);
        return sent;
    }
}
