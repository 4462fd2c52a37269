using Grpc.Core;
using ReadHistory.Api.Internal.V1;
using ReadHistory.Api.V1;
using ReadHistory.Server.Cache;
using CacheNodeBase = ReadHistory.Api.Internal.V1.CacheNode.CacheNodeBase;

namespace ReadHistory.Server.Api.Internal;

/// <summary>
/// readhistory.internal.v1.CacheNode: the calls a proxy forwards to a cache node. Requests are validated again
/// (a node protects itself), then answered by the node's cache, or from the database alone when the proxy sets
/// <c>passthrough</c> because every replica of the user's own slot is down. Snapshot streams the node's filters to a
/// starting replica (warm start), after the stream cursor of <paramref name="cursors"/> (the coherence tailer's last
/// applied position; none without a tailer: an empty cursor). Snapshot is bound by <see cref="SnapshotMethodProvider"/>
/// with a marshaller that sends the sender's pre-encoded chunks as they are, not by the generated binding (see
/// <see cref="BindService"/>).
/// </summary>
[BindServiceMethod(typeof(CacheNodeService), nameof(BindService))]
internal sealed class CacheNodeService(RequestValidator validator, CacheNodeHost node, SnapshotCursorSource? cursors = null) : CacheNodeBase
{
    private readonly SnapshotSender _snapshots = new(cursors ?? SnapshotCursorSource.None);
    private readonly ReadHistoryService _cached = new(validator, new CacheBackend(node));
    private readonly ReadHistoryService _passthrough = new(validator, new CacheBackend(node, passthrough: true));

    /// <summary>
    /// Binds the generated methods but Snapshot, which <see cref="SnapshotMethodProvider"/> adds with its own
    /// marshaller (two endpoints on one route would make every Snapshot call ambiguous), with request marshallers that
    /// answer a request whose protobuf does not parse with INTERNAL (<see cref="MalformedRequestBinder"/>).
    /// Grpc.AspNetCore finds this method through the attribute and calls it with a null service.
    /// </summary>
    public static void BindService(ServiceBinderBase serviceBinder, CacheNodeBase? serviceImpl) =>
        CacheNode.BindService(new SkipSnapshotBinder(new MalformedRequestBinder(serviceBinder)), serviceImpl);

    /// <summary>Check forwarded by the proxy.</summary>
    public override Task<CheckResponse> Check(CacheCheckRequest request, ServerCallContext context) =>
        For(request.Passthrough).Check(Required(request.Request, "request"), context);

    /// <summary>Filter forwarded by the proxy.</summary>
    public override Task<FilterResponse> Filter(CacheCheckRequest request, ServerCallContext context) =>
        For(request.Passthrough).Filter(Required(request.Request, "request"), context);

    /// <summary>The BatchCheck entries of this node's slot.</summary>
    public override Task<BatchCheckResponse> BatchCheck(CacheBatchCheckRequest request, ServerCallContext context) =>
        For(request.Passthrough).BatchCheck(Required(request.Request, "request"), context);

    /// <summary>MarkRead forwarded by the proxy.</summary>
    public override Task<MarkReadResponse> MarkRead(CacheMarkReadRequest request, ServerCallContext context) =>
        For(request.Passthrough).MarkRead(Required(request.Request, "request"), context);

    /// <summary>ForgetUser forwarded by the proxy.</summary>
    public override Task<ForgetUserResponse> Forget(CacheForgetRequest request, ServerCallContext context) =>
        For(request.Passthrough).ForgetUser(Required(request.Request, "request"), context);

    /// <summary>Warm start: the node's filters of the pool asked for, hottest first, after the stream cursor, as encoded chunks.</summary>
    public async Task SnapshotAsync(SnapshotRequest request, IServerStreamWriter<EncodedSnapshotChunk> stream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var cache = node.Current ?? throw new RpcException(new Status(StatusCode.Unavailable, "the cache node is starting: it holds no filters yet"));
        var pool = cache.Options.Pool;
        if (request.Pool.Length != 0 && request.Pool != pool)
        {
            throw new RpcException(new Status(StatusCode.NotFound, "pool '" + request.Pool + "' is not held by this node (it holds '" + pool + "')"));
        }

        await _snapshots.SendAsync(cache, request, stream, context.CancellationToken).ConfigureAwait(false);
    }

    /// <summary>The node's figures (one pool per node in this build).</summary>
    public override Task<StatsResponse> Stats(StatsRequest request, ServerCallContext context)
    {
        var cache = node.Current ?? throw new RpcException(new Status(StatusCode.Unavailable, "the cache node is starting: its database is not reachable yet"));
        var stats = cache.Stats();
        var response = new StatsResponse();
        if (request.Pool.Length == 0 || request.Pool == stats.Pool)
        {
            response.Pools.Add(stats.ToWire());
        }

        return Task.FromResult(response);
    }

    private ReadHistoryService For(bool passthrough) => passthrough ? _passthrough : _cached;

    private static T Required<T>(T? message, string field)
        where T : class =>
        message ?? throw new RpcException(new Status(StatusCode.InvalidArgument, field + ": required"));
}
