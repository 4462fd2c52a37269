using Google.Protobuf;
using ReadHistory.Api.Internal.V1;
using ReadHistory.Core.Filters;
using ReadHistory.Rpc;

namespace ReadHistory.Server.Cache;

/// <summary>
/// The sending side of warm start (CacheNode.Snapshot): the node's filters of one pool, hottest first, each in
/// <see cref="UserFilter"/>'s snapshot encoding, packed into chunks of at most <c>max_chunk_bytes</c> of filter data,
/// after the change-stream cursor read before the first filter.
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
        var ranked = cache.Filters.RankHottestFirst();
        var chunkBytes = ChunkBytesFor(request);
        var maxBytes = request.MaxBytes == 0 ? long.MaxValue : (long)Math.Min(request.MaxBytes, long.MaxValue);
        using var buffer = new SnapshotBuffer(chunkBytes + (64 << 10));
        var packer = new SnapshotChunkPacker(stream, buffer, chunkBytes, cursor);
        long sent = 0;
        // CLOCK's two classes in order (recently used first), but each walked by a golden-ratio stride rather than in
        // table order: table order is the order of the users' hash, and a receiver inserting users in hash order into
        // its own open-addressing table, sized for what it holds so far, piles them into one ever-growing cluster
        // (quadratic: measured minutes for 1 M users instead of seconds).
        var referenced = 0;
        while (referenced < ranked.Length && ranked[referenced].Referenced)
        {
            referenced++;
        }

        var hotStride = StrideFor(referenced);
        var coldStride = StrideFor(ranked.Length - referenced);
        for (var step = 0L; step < ranked.Length; step++)
        {
            var entry = step < referenced
                ? ranked[step * hotStride % referenced]
                : ranked[referenced + ((step - referenced) * coldStride % (ranked.Length - referenced))];
            cancellationToken.ThrowIfCancellationRequested();
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

    /// <summary>
    /// A stride near <paramref name="length"/> × 0.618 sharing no factor with it (1 for lengths below 3): stepping by it
    /// modulo length visits every index once, consecutive ones far apart.
    /// </summary>
    internal static long StrideFor(int length)
    {
        if (length < 3)
        {
            return 1;
        }

        var stride = (long)(length * 0.6180339887498949) | 1;
        while (Gcd(stride, length) != 1)
        {
            stride += 2;
        }

        return stride;
    }

    private static long Gcd(long a, long b)
    {
        while (b != 0)
        {
            (a, b) = (b, a % b);
        }

        return a;
    }
}
