using System.Runtime.CompilerServices;
using ReadHistory.Api.Internal.V1;
using ReadHistory.Core.Caching;
using ReadHistory.Core.Filters;
using Grpc.Core;

namespace ReadHistory.Server.Cache;

/// <summary>
/// The sending side of warm start (CacheNode.Snapshot): the node's filters of one pool, hottest first, each in
/// <see cref="UserFilter"/>'s snapshot encoding, packed into chunks of at most <c>max_chunk_bytes</c> of filter parts,
/// after the change-stream cursor read before the first filter and the index layout they come in.
/// </summary>
/// <remarks>
/// Memory stays bounded by about one chunk (plus one filter larger than a chunk): filters are written one at a time
/// straight into the chunk's encoding (<see cref="SnapshotChunkEncoder"/>), which the transport copies as it is
/// (<see cref="SnapshotMethods.Encoded"/>'s marshaller), and the buffer is reused once the write has completed. Filters
/// keep taking writes meanwhile; each is copied with every bit set before its own copy began, and anything later is
/// re-applied by the receiver from the cursor. Users installed after the ranking are not sent (the receiver rebuilds
/// them on a miss); capped markers are not sent.
/// </remarks>
internal sealed class SnapshotSender(SnapshotCursorSource cursors)
{
    /// <summary>Bytes of filter parts per chunk when the request leaves it 0.</summary>
    public const int DefaultChunkBytes = 1 << 20;

    /// <summary>The smallest chunk honoured (smaller requests are raised to it).</summary>
    public const int MinChunkBytes = 64;

    /// <summary>The largest chunk honoured (larger requests are lowered to it), well under a receiver's message limit.</summary>
    public const int MaxChunkBytes = 4 << 20;

    // Filters ahead of the one written whose first bytes are asked for: each lives anywhere on the heap.
    private const int PrefetchDistance = 16;

    /// <summary>The chunk size a request asks for, after defaults and limits.</summary>
    public static int ChunkBytesFor(SnapshotRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.MaxChunkBytes == 0 ? DefaultChunkBytes : (int)Math.Clamp(request.MaxChunkBytes, MinChunkBytes, MaxChunkBytes);
    }

    /// <summary>Streams <paramref name="cache"/>'s filters as the request asks; returns the filter bytes sent.</summary>
    public async Task<long> SendAsync(ReadThroughCache cache, SnapshotRequest request, IAsyncStreamWriter<EncodedSnapshotChunk> stream, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cache);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(stream);

        // The cursor first: every bit a change after it sets is either in a copied filter or replayed by the receiver.
        var cursor = cursors.Current;
        var filters = cache.Filters;
        var poolBytes = (ulong)filters.Bytes;
        var ranked = filters.RankHottestFirst();
        var chunkBytes = ChunkBytesFor(request);
        var send = new Walk(ranked, request.MaxBytes == 0 ? long.MaxValue : (long)Math.Min(request.MaxBytes, long.MaxValue));
        using var encoder = new SnapshotChunkEncoder(chunkBytes, cursor.Span, new SnapshotLayout(filters.LayoutSalt, (ulong)ranked.Length, poolBytes));
        var truncated = false;
        while (!truncated)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var stop = Fill(send, encoder, chunkBytes);
            if (stop == FillStop.End)
            {
                break;
            }

            truncated = stop == FillStop.Truncated;
            if (stop == FillStop.TooLarge)
            {
                await SendSplitAsync(send, encoder, stream, cancellationToken).ConfigureAwait(false);
            }
            else if (stop == FillStop.ChunkFull)
            {
                await FlushAsync(encoder, stream, last: false, truncated: false, cancellationToken).ConfigureAwait(false);
            }
        }

        await FlushAsync(encoder, stream, last: true, truncated, cancellationToken).ConfigureAwait(false);
        return send.Sent;
    }

    /// <summary>
    /// Appends filters in rank order until the chunk is full, the byte limit is reached, a filter needs a chunk of its
    /// own or more, or none are left. Synchronous and optimized from its first call: it runs for every filter.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static FillStop Fill(Walk walk, SnapshotChunkEncoder encoder, int chunkBytes)
    {
        var ranked = walk.Ranked;
        for (; walk.Next < ranked.Length; walk.Next++)
        {
            if (walk.Next + PrefetchDistance < ranked.Length)
            {
                ranked[walk.Next + PrefetchDistance].Prefetch();
            }

            var entry = ranked[walk.Next];
            if (entry.Removed || entry.Filter is not { } filter)
            {
                continue;
            }

            var estimate = filter.SnapshotLength;
            if (walk.Sent + estimate > walk.MaxBytes)
            {
                return FillStop.Truncated;
            }

            var length = encoder.TryAppend(entry.UserId, filter, estimate);
            if (length < 0)
            {
                // Not in the room left: a new chunk, or for a filter larger than a chunk parts over several.
                return encoder.PartBytes > 0 ? FillStop.ChunkFull : FillStop.TooLarge;
            }

            walk.Sent += length;
            if (encoder.PartBytes >= chunkBytes)
            {
                walk.Next++;
                return FillStop.ChunkFull;
            }
        }

        return FillStop.End;
    }

    /// <summary>Sends the filter at the walk's position in parts over as many chunks as it takes (a filter larger than a chunk).</summary>
    private static async Task SendSplitAsync(Walk walk, SnapshotChunkEncoder encoder, IAsyncStreamWriter<EncodedSnapshotChunk> stream, CancellationToken cancellationToken)
    {
        var entry = walk.Ranked[walk.Next++];
        var filter = entry.Filter!;
        using var snapshot = new SnapshotBuffer(checked((int)filter.SnapshotLength));
        filter.WriteSnapshot(snapshot, SnapshotChunkEncoder.ZeroStamp);
        var total = snapshot.Written;
        for (var offset = 0; offset < total;)
        {
            var taken = encoder.AppendPart(entry.UserId, total, offset, snapshot.Slice(offset, total - offset).Span);
            offset += taken;
            if (taken == 0 || offset < total)
            {
                await FlushAsync(encoder, stream, last: false, truncated: false, cancellationToken).ConfigureAwait(false);
            }
        }

        walk.Sent += total;
    }

    /// <summary>Hands the encoded chunk to the transport, then starts the next.</summary>
    private static async Task FlushAsync(SnapshotChunkEncoder encoder, IAsyncStreamWriter<EncodedSnapshotChunk> stream, bool last, bool truncated, CancellationToken cancellationToken)
    {
        await stream.WriteAsync(new EncodedSnapshotChunk(encoder.Finish(last, truncated)), cancellationToken).ConfigureAwait(false);

        encoder.Reset();
    }

    private enum FillStop
    {
        End,
        ChunkFull,
        TooLarge,
        Truncated,
    }

    /// <summary>Where a send is in its ranking, and the filter bytes it sent.</summary>
    private sealed class Walk(FilterTableEntry[] ranked, long maxBytes)
    {
        public FilterTableEntry[] Ranked { get; } = ranked;

        public long MaxBytes { get; } = maxBytes;

        public int Next { get; set; }

        public long Sent { get; set; }
    }
}
