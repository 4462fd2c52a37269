using Google.Protobuf;
using ReadHistory.Api.Internal.V1;
using ReadHistory.Api.V1;
using Grpc.Core;
using ReadHistory.Server.Api;
using ReadHistory.Server.Api.Admission;
using ReadHistory.Server.Auth;

namespace ReadHistory.Server.Proxy;

/// <summary>
/// The proxy's backend: every call goes to a cache node of the caller's tenant pool — slot by JumpConsistentHash of
/// the user, replica by rendezvous hash of the session (user when absent) over the slot's healthy replicas — and
/// fails over to the next replica, then to another slot's node in passthrough, inside the caller's deadline.
/// </summary>
internal sealed partial class ProxyBackend(ProxyRouter router, TenantLimiter limiter, ProxyMetrics? metrics, AdmissionControl admission, ProxyOptions options, TimeProvider time, ILogger logger) : IReadHistoryBackend
{
    private static readonly Action<CacheCheckRequest, bool> CheckPassthrough = static (r, p) => r.Passthrough = p;
    private static readonly Action<CacheMarkReadRequest, bool> MarkPassthrough = static (r, p) => r.Passthrough = p;
    private static readonly Action<CacheMarkReadRequest, bool> MarkMoved = static (r, m) => r.UntilPeersApplied = m;
    private static readonly Action<CacheForgetRequest, bool> ForgetPassthrough = static (r, p) => r.Passthrough = p;
    /// <summary>Sets a decoded BatchCheck's passthrough flag (the walk's setter; shared, so no closure per call).</summary>
    internal static readonly Action<CacheBatchCheckRequest, bool> BatchPassthrough = static (r, p) => r.Passthrough = p;

    /// <summary>The router (tests and the host reach the table through it).</summary>
    public ProxyRouter Router => router;

    /// <inheritdoc />
    public async Task<AnswerSource> CheckAsync(CheckRequest request, Memory<byte> readBitmap, ServerCallContext context)
    {
        limiter.Admit(CallerOf(context), request.Tenant, request.ContentIds.Count);
        var slot = PoolFor(router.Current, request.Tenant).SlotOf(request.UserId);
        var response = await RouteAsync(CallClass.Checks, static (c, r, o) => c.CheckAsync(r, o), new CacheCheckRequest { Request = request }, CheckPassthrough, slot, AffinityKey(request.SessionId, request.UserId), Deadline(context), context.CancellationToken).ConfigureAwait(false);
        CopyBitmap(response.ReadBitmap, readBitmap.Span);
        return response.Source;
    }

    /// <inheritdoc />
    public async Task<int> MarkReadAsync(MarkReadRequest request, ServerCallContext context)
    {
        limiter.Admit(CallerOf(context), request.Tenant, request.Items.Count);
        var slot = PoolFor(router.Current, request.Tenant).SlotOf(request.UserId);
        var response = await RouteAsync(CallClass.Writes, static (c, r, o) => c.MarkReadAsync(r, o), new CacheMarkReadRequest { Request = request }, MarkPassthrough, slot, AffinityKey(request.SessionId, request.UserId), Deadline(context), context.CancellationToken, MarkMoved).ConfigureAwait(false);
        return (int)response.Written;
    }

    /// <inheritdoc />
    public async Task<long> ForgetUserAsync(ForgetUserRequest request, ServerCallContext context)
    {
        limiter.AdmitCall(CallerOf(context), request.Tenant);
        var slot = PoolFor(router.Current, request.Tenant).SlotOf(request.UserId);
        var response = await RouteAsync(CallClass.Writes, static (c, r, o) => c.ForgetAsync(r, o), new CacheForgetRequest { Request = request }, ForgetPassthrough, slot, request.UserId, Deadline(context), context.CancellationToken).ConfigureAwait(false);
        return (long)response.RowsRemoved;
    }

    // The id of the API key the call presented (rate limits are per key), or null for an anonymous call; looked up only
    // when some tenant limits its call rate.
    private string? CallerOf(ServerCallContext context) =>
        limiter.LimitsCalls ? (context.GetHttpContext().User.Identity as CallerIdentity)?.Id : null;

    private static ulong AffinityKey(string session, ulong userId) =>
        session.Length > 0 ? Core.Routing.RendezvousHash.KeyOf(session) : userId;

    private static PoolRoute PoolFor(RoutingTable table, string tenant) =>
        table.PoolFor(tenant) ?? throw new RpcException(new Status(StatusCode.NotFound, NoPool(tenant)));

    private static string NoPool(string tenant) => tenant.Length == 0
        ? "tenant: the default tenant is served by no cache pool (list \"\" in a pool's Tenants or name a pool \"default\")"
        : $"tenant: '{tenant}' is served by no cache pool";

    private static void CopyBitmap(ByteString answer, Span<byte> bitmap)
    {
        if (answer.Length != bitmap.Length)
        {
            throw new RpcException(new Status(StatusCode.Internal, $"the cache node answered a bitmap of {answer.Length} bytes for {bitmap.Length}"));
        }

        answer.Span.CopyTo(bitmap);
    }

    // The caller's deadline (grpc-timeout), or the default budget when it set none.
    private DateTime Deadline(ServerCallContext context) =>
        context.Deadline == DateTime.MaxValue ? time.GetUtcNow().UtcDateTime + options.DefaultBudget : context.Deadline;
}
