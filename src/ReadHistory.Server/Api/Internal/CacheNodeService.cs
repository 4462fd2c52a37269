using Grpc.Core;
using Microsoft.Extensions.Options;
using ReadHistory.Api.Internal.V1;
using ReadHistory.Api.V1;
using ReadHistory.Server.Cache;
using ReadHistory.Server.Topology;
using CacheNodeBase = ReadHistory.Api.Internal.V1.CacheNode.CacheNodeBase;

namespace ReadHistory.Server.Api.Internal;

/// <summary>
/// readhistory.internal.v1.CacheNode: the calls a proxy forwards to a cache node. Requests are validated again
/// (a node protects itself), then answered by the node's cache, or from the database alone when the proxy sets
/// <c>passthrough</c> because every replica of the user's own slot is down. Snapshot streams the node's filters to a
/// starting replica (warm start), after the stream cursor of <paramref name="cursors"/> (the coherence tailer's last
/// applied position; none without a tailer: an empty cursor). Snapshot is bound by <see cref="SnapshotMethodProvider"/>
/// with a marshaller that sends the sender's pre-encoded chunks as they are, not by the generated binding (see
/// <see cref="BindService"/>). ApplyChanges applies what a peer replica of the node's slot (<paramref name="placement"/>)
/// committed, as the same changes from the slot's stream. Exchange carries Check, Filter and MarkRead multiplexed on a
/// long-lived stream (<see cref="ExchangeSession"/>), each request answered by the same handler as its unary call.
/// </summary>
[BindServiceMethod(typeof(CacheNodeService), nameof(BindService))]
internal sealed class CacheNodeService(RequestValidator validator, CacheNodeHost node, NodePlacement placement, IOptions<CacheNodeOptions> options, ExchangeHost exchanges, SnapshotCursorSource? cursors = null) : CacheNodeBase
{
    private readonly SnapshotSender _snapshots = new(cursors ?? SnapshotCursorSource.None);
    private readonly ReadHistoryService _cached = new(validator, new CacheBackend(node));
    private readonly ReadHistoryService _passthrough = new(validator, new CacheBackend(node, passthrough: true));
    private readonly ReadHistoryService _movedWrites = new(validator, new CacheBackend(node, untilPeersApplied: true));

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
        (request.UntilPeersApplied && !request.Passthrough ? _movedWrites : For(request.Passthrough)).MarkRead(Required(request.Request, "request"), context);

    /// <summary>ForgetUser forwarded by the proxy.</summary>
    public override Task<ForgetUserResponse> Forget(CacheForgetRequest request, ServerCallContext context) =>
        For(request.Passthrough).ForgetUser(Required(request.Request, "request"), context);

    /// <summary>
    /// Ingest forwarded by the proxy: this slot's messages of one client stream, pipelined like the public Ingest; the
    /// first message's passthrough holds for the stream.
    /// </summary>
    public override async Task<IngestResponse> Ingest(IAsyncStreamReader<CacheIngestRequest> requests, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(requests);
        ArgumentNullException.ThrowIfNull(context);
        if (!await requests.MoveNext(context.CancellationToken).ConfigureAwait(false))
        {
            return new IngestResponse();
        }

        return await For(requests.Current.Passthrough).IngestAsync(requests, static r => r.Request, current: true, context).ConfigureAwait(false);
    }

    /// <summary>Check, Filter and MarkRead multiplexed on one stream, each answered as its unary call (see <see cref="ExchangeSession"/>).</summary>
    public override Task Exchange(IAsyncStreamReader<ExchangeRequests> requestStream, IServerStreamWriter<ExchangeResponses> responseStream, ServerCallContext context) =>
        new ExchangeSession(this, exchanges, context).RunAsync(requestStream, responseStream);

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

    /// <summary>Explains one id of one user: the filter's answer and layer, the database's, the user's figures.</summary>
    public override async Task<ExplainResponse> Explain(ExplainRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        if (RequestValidator.Validate(request) is { } error)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, error));
        }

        var cache = node.Current ?? throw new RpcException(new Status(StatusCode.Unavailable, "the cache node is starting: its database is not reachable yet"));
        if (request.Pool.Length != 0 && request.Pool != cache.Options.Pool)
        {
            throw new RpcException(new Status(StatusCode.NotFound, "pool '" + request.Pool + "' is not held by this node (it holds '" + cache.Options.Pool + "')"));
        }

        var explanation = await cache.ExplainAsync(request.UserId, (ushort)request.ContentType, request.ContentId, context.CancellationToken).ConfigureAwait(false);
        return explanation.ToWire();
    }

    /// <summary>
    /// Peer fan-out: changes a peer replica of this slot committed, applied exactly as the same changes from the stream
    /// (an insert sets bits if the user is held, or goes to its running rebuild; a delete drops the user). The whole
    /// request is checked before anything is applied.
    /// </summary>
    public override Task<ApplyChangesResponse> ApplyChanges(ApplyChangesRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        var cache = node.Current ?? throw new RpcException(new Status(StatusCode.Unavailable, "the cache node is starting: it holds no filters yet"));
        if (request.Pool != placement.Pool || request.Slot != (uint)placement.Slot)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"changes of pool '{request.Pool}' slot {request.Slot} sent to a node of pool '{placement.Pool}' slot {placement.Slot}"));
        }

        var changes = CountChanges(request, options.Value.PeerFanOutMaxChangesPerCall);
        foreach (var change in request.Changes)
        {
            foreach (var id in change.ContentIds)
            {
                cache.ApplyChange(change.UserId, (ushort)change.ContentType, id, ChangeKind.Insert);
            }

            if (change.DeleteUser)
            {
                cache.ApplyChange(change.UserId, 0, 0, ChangeKind.DeleteUser);
            }
        }

        cache.Metrics.PeerChanges(changes);
        return Task.FromResult(new ApplyChangesResponse { Applied = (uint)changes });
    }

    // Content ids plus user deletions, within the limit; every entry well formed.
    private static long CountChanges(ApplyChangesRequest request, int limit)
    {
        long changes = 0;
        for (var i = 0; i < request.Changes.Count; i++)
        {
            var change = request.Changes[i];
            if (change.UserId == 0)
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument, $"changes[{i}].user_id: must be set"));
            }

            if (change.ContentType > ushort.MaxValue)
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument, $"changes[{i}].content_type: {change.ContentType} is over {ushort.MaxValue}"));
            }

            changes += change.ContentIds.Count + (change.DeleteUser ? 1 : 0);
            if (changes > limit)
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument, $"changes: more than {limit} changes (content ids plus user deletions) in one call (Cache:PeerFanOutMaxChangesPerCall)"));
            }
        }

        return changes;
    }

    private ReadHistoryService For(bool passthrough) => passthrough ? _passthrough : _cached;

    private static T Required<T>(T? message, string field)
        where T : class =>
        message ?? throw new RpcException(new Status(StatusCode.InvalidArgument, field + ": required"));
}
