using ReadHistory.Api.Internal.V1;
using ReadHistory.Api.V1;
using Grpc.Core;

namespace ReadHistory.Server.Proxy;

/// <summary>BatchCheck: split by (pool, slot), one CacheNode.BatchCheck per slot in parallel, merged in request order.</summary>
internal sealed partial class ProxyBackend
{
    /// <inheritdoc />
    public async ValueTask<bool> TryBatchCheckAsync(BatchCheckRequest request, UserCheckResult?[] results, ServerCallContext context)
    {
        limiter.AdmitCall(request.Tenant);
        var table = router.Current;
        var groups = new Dictionary<SlotRoute, List<int>>();
        for (var i = 0; i < results.Length; i++)
        {
            if (results[i] is not null)
            {
                continue;
            }

            var entry = request.Requests[i];
            var pool = table.PoolFor(entry.Tenant);
            var error = pool is null ? NoPool(entry.Tenant) : limiter.IdsError(entry.Tenant, entry.ContentIds.Count);
            if (error is not null)
            {
                results[i] = Failed(pool is null ? StatusCode.NotFound : StatusCode.InvalidArgument, error);
                continue;
            }

            var slot = pool!.SlotOf(entry.UserId);
            if (!groups.TryGetValue(slot, out var members))
            {
                groups.Add(slot, members = []);
            }

            members.Add(i);
        }

        var deadline = Deadline(context);
        var parts = new Task[groups.Count];
        var n = 0;
        foreach (var (slot, members) in groups)
        {
            parts[n++] = CheckSlotAsync(slot, members, request, results, deadline, context.CancellationToken);
        }

        await Task.WhenAll(parts).ConfigureAwait(false);
        return true;
    }

    private static UserCheckResult Failed(StatusCode code, string message) => new() { StatusCode = (int)code, StatusMessage = message };

    // One slot's share; its failure becomes the status of its own entries only.
    private async Task CheckSlotAsync(SlotRoute slot, List<int> members, BatchCheckRequest request, UserCheckResult?[] results, DateTime deadline, CancellationToken cancellationToken)
    {
        var part = new BatchCheckRequest { Tenant = request.Tenant };
        foreach (var i in members)
        {
            part.Requests.Add(request.Requests[i]);
        }

        try
        {
            var response = await RouteAsync(static (c, r, o) => c.BatchCheckAsync(r, o), new CacheBatchCheckRequest { Request = part }, BatchPassthrough, slot, request.Requests[members[0]].UserId, deadline, cancellationToken).ConfigureAwait(false);
            for (var k = 0; k < members.Count; k++)
            {
                results[members[k]] = k < response.Results.Count
                    ? response.Results[k]
                    : Failed(StatusCode.Internal, $"cache pool '{slot.Pool.Name}' slot {slot.Index} answered {response.Results.Count} results for {members.Count} entries");
            }
        }
        catch (RpcException e)
        {
            foreach (var i in members)
            {
                results[i] = Failed(e.StatusCode, e.Status.Detail);
            }
        }
    }
}
