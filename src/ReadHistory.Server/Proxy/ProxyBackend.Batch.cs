using ReadHistory.Api.V1;
using Grpc.Core;

namespace ReadHistory.Server.Proxy;

/// <summary>
/// BatchCheck: split by (pool, slot), one CacheNode.BatchCheck per slot in parallel, merged in request order. The
/// fan-out is shared by the decoded request (<see cref="DecodedBatch"/>) and the one kept as bytes
/// (<see cref="ForwardedBatch"/>); only how a slot's share is written and its answer read differ.
/// </summary>
internal sealed partial class ProxyBackend
{
    /// <inheritdoc />
    public async ValueTask<bool> TryBatchCheckAsync(BatchCheckRequest request, UserCheckResult?[] results, ServerCallContext context)
    {
        limiter.AdmitCall(CallerOf(context), request.Tenant);
        await FanOutAsync(new DecodedBatch(request, results), context).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// Answers every entry of <paramref name="entries"/> not answered yet: refused by its tenant's limits or pool, or sent
    /// with the other entries of its slot (one internal BatchCheck per slot, in parallel). The call was admitted under
    /// the request's tenant by the caller; each other tenant its entries name is charged one call here, and when that
    /// tenant's bucket (of the caller's key) is empty, its entries answer RESOURCE_EXHAUSTED with the retry hint in
    /// their message.
    /// </summary>
    internal async Task FanOutAsync<TEntries>(TEntries entries, ServerCallContext context)
        where TEntries : IBatchEntries
    {
        ArgumentNullException.ThrowIfNull(context);
        var table = router.Current;
        var caller = CallerOf(context);
        var groups = new Dictionary<SlotRoute, List<int>>();
        // The other tenants charged for this call, each with its refusal (null: admitted); made for the first such entry.
        Dictionary<string, RpcException?>? charged = null;
        for (var i = 0; i < entries.Count; i++)
        {
            if (entries.IsAnswered(i))
            {
                continue;
            }

            var tenant = entries.TenantOf(i);
            var pool = table.PoolFor(tenant);
            var error = pool is null ? NoPool(tenant) : limiter.IdsError(tenant, entries.IdsOf(i));
            if (error is not null)
            {
                entries.Fail(i, pool is null ? StatusCode.NotFound : StatusCode.InvalidArgument, error);
                continue;
            }

            // "" and "default" are one tenant's bucket: an entry naming either is not charged again on a call of the other.
            var bucket = TenantLimiter.BucketName(tenant);
            if (limiter.LimitsCalls && !string.Equals(bucket, TenantLimiter.BucketName(entries.Tenant), StringComparison.Ordinal))
            {
                charged ??= new(StringComparer.Ordinal);
                if (!charged.TryGetValue(bucket, out var refusal))
                {
                    charged.Add(bucket, refusal = limiter.Refusal(caller, tenant));
                }

                if (refusal is not null)
                {
                    entries.Fail(i, refusal.StatusCode, refusal.Status.Detail);
                    continue;
                }
            }

            var slot = pool!.SlotOf(entries.UserOf(i));
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
            parts[n++] = CheckSlotAsync(entries, slot, members, deadline, context.CancellationToken);
        }

        await Task.WhenAll(parts).ConfigureAwait(false);
    }

    // One slot's share; its failure becomes the status of its own entries only.
    private async Task CheckSlotAsync<TEntries>(TEntries entries, SlotRoute slot, List<int> members, DateTime deadline, CancellationToken cancellationToken)
        where TEntries : IBatchEntries
    {
        try
        {
            var answered = await entries.CheckSlotAsync(this, slot, members, deadline, cancellationToken).ConfigureAwait(false);
            for (var k = answered; k < members.Count; k++)
            {
                entries.Fail(members[k], StatusCode.Internal, $"cache pool '{slot.Pool.Name}' slot {slot.Index} answered {answered} results for {members.Count} entries");
            }
        }
        catch (RpcException e)
        {
            foreach (var i in members)
            {
                entries.Fail(i, e.StatusCode, e.Status.Detail);
            }
        }
    }
}
