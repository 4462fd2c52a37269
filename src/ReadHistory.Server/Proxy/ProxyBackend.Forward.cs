using Grpc.Core;
using ReadHistory.Server.Api.Admission;

namespace ReadHistory.Server.Proxy;

/// <summary>Check, Filter, MarkRead and BatchCheck forwarded as bytes (<see cref="ForwardingMethods"/>): routed as the decoded calls are.</summary>
internal sealed partial class ProxyBackend
{
    private static readonly Action<ForwardedRequest, bool> ForwardPassthrough = static (r, p) => r.Passthrough = p;
    private static readonly Action<ForwardedRequest, bool> ForwardMoved = static (r, m) => r.Moved = m;

    /// <summary>
    /// Sends a validated Check or Filter (<paramref name="method"/>: <see cref="ForwardingMethods.NodeCheck"/> or
    /// <see cref="ForwardingMethods.NodeFilter"/>) to the user's slot and returns the node's answer as bytes.
    /// </summary>
    public async Task<RelayedAnswer> ForwardCheckAsync(Method<ForwardedRequest, RelayedAnswer> method, ForwardedRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var answer = await ForwardAsync(method, request, context).ConfigureAwait(false);
        if (method == ForwardingMethods.NodeCheck)
        {
            // As the decoding path did when it copied the bitmap: an answer that does not fit the request is the node's fault.
            var bitmap = Math.Max(0, answer.Peek(0, 1).Length);
            var expected = (request.Count + 7) / 8;
            if (bitmap != expected)
            {
                throw new RpcException(new Status(StatusCode.Internal, $"the cache node answered a bitmap of {bitmap} bytes for {expected}"));
            }
        }

        return answer;
    }

    /// <summary>Sends a validated MarkRead to the user's slot and returns the node's answer as bytes.</summary>
    public Task<RelayedAnswer> ForwardMarkReadAsync(ForwardedRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        return ForwardAsync(ForwardingMethods.NodeMarkRead, request, context);
    }

    /// <summary>
    /// Answers the entries of a validated BatchCheck kept as bytes (those that failed validation already have their
    /// outcome): the decoded path's fan-out (<see cref="FanOutAsync{TEntries}"/>), each slot's share written from the client's
    /// bytes and the nodes' results kept as bytes. Throws only when the request's tenant's call rate refuses the call.
    /// </summary>
    public async Task ForwardBatchCheckAsync(ForwardedBatch batch, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(context);
        try
        {
            limiter.AdmitCall(CallerOf(context), batch.Tenant);
        }
        catch
        {
            // Refused before anything was sent: the buffer is free.
            batch.Release();
            throw;
        }

        await FanOutAsync(batch, context).ConfigureAwait(false);
    }

    private async Task<RelayedAnswer> ForwardAsync(Method<ForwardedRequest, RelayedAnswer> method, ForwardedRequest request, ServerCallContext context)
    {
        SlotRoute slot;
        try
        {
            limiter.Admit(CallerOf(context), request.Tenant, request.Count);
            slot = PoolFor(router.Current, request.Tenant).SlotOf(request.UserId);
        }
        catch
        {
            // Refused before anything was sent (a tenant's limit, no pool): the buffer is free, even in a flood of refusals.
            request.Release();
            throw;
        }

        // Only a MarkRead carries until_peers_applied (CacheCheckRequest has no field 3).
        var moved = method == ForwardingMethods.NodeMarkRead ? ForwardMoved : null;
        var callClass = method == ForwardingMethods.NodeMarkRead ? CallClass.Writes : CallClass.Checks;
        var answer = await WalkAsync(static (replica, method, request, deadline, cancellationToken) => replica.ForwardAsync(method, request, deadline, cancellationToken), callClass, method, request, ForwardPassthrough, moved, slot, AffinityKey(request.SessionId, request.UserId), Deadline(context), context.CancellationToken).ConfigureAwait(false);
        // A node answered, so it had read the whole request: no attempt can still be copying from the buffer.
        request.Release();
        return answer;
    }
}
