using ReadHistory.Api.Internal.V1;
using ReadHistory.Api.V1;
using ReadHistory.Rpc;
using ReadHistory.Rpc.Server;
using ReadHistory.Server.Cache;
using ReadHistory.Server.Hosting;

namespace ReadHistory.Server.Api.Internal;

/// <summary>
/// readhistory.internal.v1.CacheNode: the calls a proxy forwards to a cache node. Requests are validated again
/// (a node protects itself), then answered by the node's cache, or from the database alone when the proxy sets
/// <c>passthrough</c> because every replica of the user's own slot is down. Snapshot streams the node's filters to a
/// starting replica (warm start), after the stream cursor of <paramref name="cursors"/> (the coherence tailer's last
/// applied position; none without a tailer: an empty cursor).
/// </summary>
internal sealed class CacheNodeService(RequestValidator validator, CacheNodeHost node, SnapshotCursorSource? cursors = null)
{
    private readonly SnapshotSender _snapshots = new(cursors ?? SnapshotCursorSource.None);
    private readonly ReadHistoryService _cached = new(validator, new CacheBackend(node));
    private readonly ReadHistoryService _passthrough = new(validator, new CacheBackend(node, passthrough: true));

    /// <summary>Check forwarded by the proxy.</summary>
    public Task<CheckResponse> CheckAsync(CacheCheckRequest request, ServerCallContext context) =>
        For(request.Passthrough).CheckAsync(Required(request.Request, "request"), context);

    /// <summary>Filter forwarded by the proxy.</summary>
    public Task<FilterResponse> FilterAsync(CacheCheckRequest request, ServerCallContext context) =>
        For(request.Passthrough).FilterAsync(Required(request.Request, "request"), context);

    /// <summary>The BatchCheck entries of this node's slot.</summary>
    public Task<BatchCheckResponse> BatchCheckAsync(CacheBatchCheckRequest request, ServerCallContext context) =>
        For(request.Passthrough).BatchCheckAsync(Required(request.Request, "request"), context);

    /// <summary>MarkRead forwarded by the proxy.</summary>
    public Task<MarkReadResponse> MarkReadAsync(CacheMarkReadRequest request, ServerCallContext context) =>
        For(request.Passthrough).MarkReadAsync(Required(request.Request, "request"), context);

    /// <summary>ForgetUser forwarded by the proxy.</summary>
    public Task<ForgetUserResponse> ForgetAsync(CacheForgetRequest request, ServerCallContext context) =>
        For(request.Passthrough).ForgetUserAsync(Required(request.Request, "request"), context);

    /// <summary>Warm start: the node's filters of the pool asked for, hottest first, after the stream cursor.</summary>
    public async Task SnapshotAsync(SnapshotRequest request, IServerStreamWriter<SnapshotChunk> stream, ServerCallContext context)
    {
        var cache = node.Current ?? throw new RpcException(new Status(StatusCode.Unavailable, "the cache node is starting: it holds no filters yet"));
        var pool = cache.Filters.Options.Pool;
        if (request.Pool.Length != 0 && request.Pool != pool)
        {
            throw new RpcException(new Status(StatusCode.NotFound, "pool '" + request.Pool + "' is not held by this node (it holds '" + pool + "')"));
        }

        await _snapshots.SendAsync(cache, request, stream, context.CancellationToken).ConfigureAwait(false);
    }

    /// <summary>The node's figures (one pool per node in this build).</summary>
    public Task<StatsResponse> StatsAsync(StatsRequest request, ServerCallContext context)
    {
        var cache = node.Current ?? throw new RpcException(new Status(StatusCode.Unavailable, "the cache node is starting: its database is not reachable yet"));
        var stats = cache.Stats();
        var response = new StatsResponse();
        if (request.Pool.Length == 0 || request.Pool == stats.Pool)
        {
            response.Pools.Add(stats);
        }

        return Task.FromResult(response);
    }

    /// <summary>The service definition, every method counted and timed by <paramref name="metrics"/>.</summary>
    public ServerServiceDefinition Bind(RpcMetrics metrics) =>
        ServerServiceDefinition.CreateBuilder(CacheNodeMethods.ServiceName)
            .AddUnaryMethod(CacheNodeMethods.Check, metrics.Instrument<CacheCheckRequest, CheckResponse>("CacheNode.Check", CheckAsync))
            .AddUnaryMethod(CacheNodeMethods.Filter, metrics.Instrument<CacheCheckRequest, FilterResponse>("CacheNode.Filter", FilterAsync))
            .AddUnaryMethod(CacheNodeMethods.BatchCheck, metrics.Instrument<CacheBatchCheckRequest, BatchCheckResponse>("CacheNode.BatchCheck", BatchCheckAsync))
            .AddUnaryMethod(CacheNodeMethods.MarkRead, metrics.Instrument<CacheMarkReadRequest, MarkReadResponse>("CacheNode.MarkRead", MarkReadAsync))
            .AddUnaryMethod(CacheNodeMethods.Forget, metrics.Instrument<CacheForgetRequest, ForgetUserResponse>("CacheNode.Forget", ForgetAsync))
            .AddServerStreamingMethod(CacheNodeMethods.Snapshot, SnapshotAsync)
            .AddUnaryMethod(CacheNodeMethods.Stats, metrics.Instrument<StatsRequest, StatsResponse>("CacheNode.Stats", StatsAsync))
            .Build();

    private ReadHistoryService For(bool passthrough) => passthrough ? _passthrough : _cached;

    private static T Required<T>(T? message, string field)
        where T : class =>
        message ?? throw new RpcException(new Status(StatusCode.InvalidArgument, field + ": required"));
}
