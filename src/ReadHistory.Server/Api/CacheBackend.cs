using System.Buffers;
using Grpc.Core;
using ReadHistory.Api.V1;
using ReadHistory.Server.Cache;
using ReadHistory.Server.Storage;

namespace ReadHistory.Server.Api;

/// <summary>
/// Answers the public API from this process's cache node (role all, or a cache node's own gRPC service):
/// hits from the user's filter, misses from a point query plus one rebuild. With <paramref name="passthrough"/>,
/// the node stands in for another slot: database only, nothing cached. With <paramref name="untilPeersApplied"/> a
/// MarkRead is answered only once the slot's other replicas applied it (a write the proxy moved off the session's own
/// replica: see CacheMarkReadRequest.until_peers_applied).
/// </summary>
internal sealed class CacheBackend(CacheNodeHost node, bool passthrough = false, bool untilPeersApplied = false) : IReadHistoryBackend
{
    /// <inheritdoc />
    public async Task<AnswerSource> CheckAsync(CheckRequest request, Memory<byte> readBitmap, ServerCallContext context)
    {
        var cache = Cache();
        var count = request.ContentIds.Count;
        var ids = ArrayPool<ulong>.Shared.Rent(count);
        try
        {
            request.ContentIds.CopyTo(ids, 0);
            var result = await StorageFailures.Guard(cache.CheckAsync(request.UserId, (ushort)request.ContentType, ids.AsMemory(0, count), readBitmap, passthrough, context.CancellationToken)).ConfigureAwait(false);
            return result.Source.ToWire();
        }
        finally
        {
            ArrayPool<ulong>.Shared.Return(ids);
        }
    }

    /// <inheritdoc />
    public async Task<int> MarkReadAsync(MarkReadRequest request, ServerCallContext context)
    {
        var cache = Cache();
        var items = StoredReads.From(request, out var distinct);
        await StorageFailures.Guard(cache.MarkReadAsync(request.UserId, (ushort)request.ContentType, items, passthrough, untilPeersApplied, context.CancellationToken)).ConfigureAwait(false);
        return distinct;
    }

    /// <inheritdoc />
    public Task<long> ForgetUserAsync(ForgetUserRequest request, ServerCallContext context) =>
        StorageFailures.Guard(Cache().ForgetAsync(request.UserId, passthrough, context.CancellationToken));

    private ReadThroughCache Cache() =>
        node.Current ?? throw StorageStatus.From(new DatabaseNotReadyException("the cache node is starting: its database is not reachable yet"))!;
}
