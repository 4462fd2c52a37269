using System.Collections.Frozen;
using System.Globalization;
using System.Threading.RateLimiting;
using Grpc.Core;

namespace ReadHistory.Server.Proxy;

/// <summary>
/// Per-tenant limits at the proxy: a token bucket of calls per second (RESOURCE_EXHAUSTED with a "retry-after-ms"
/// trailer when empty) and a cap on ids per call (INVALID_ARGUMENT: retrying the same call cannot help).
/// Tenants without an entry are unlimited.
/// </summary>
internal sealed class TenantLimiter : IDisposable
{
    /// <summary>The trailer carrying the retry hint, in milliseconds.</summary>
    public const string RetryAfterTrailer = Api.Admission.AdmissionControl.RetryAfterTrailer;

    private readonly FrozenDictionary<string, Entry> _tenants;
    private readonly ProxyMetrics? _metrics;

    /// <summary>Builds the buckets from <paramref name="options"/> (the "default" entry limits the empty tenant).</summary>
    public TenantLimiter(ProxyOptions options, ProxyMetrics? metrics)
    {
        _metrics = metrics;
        var entries = new Dictionary<string, Entry>(StringComparer.Ordinal);
        foreach (var (tenant, limits) in options.Tenants)
        {
            TokenBucketRateLimiter? bucket = null;
            if (limits.CallsPerSecond > 0)
            {
                // Refill every 10 ms keeps the bucket smooth without a timer per call.
                var perPeriod = Math.Max(1, (int)Math.Ceiling(limits.CallsPerSecond / 100));
                var period = TimeSpan.FromSeconds(perPeriod / limits.CallsPerSecond);
                bucket = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
                {
                    TokenLimit = limits.Burst > 0 ? limits.Burst : Math.Max(1, (int)Math.Ceiling(limits.CallsPerSecond)),
                    TokensPerPeriod = perPeriod,
                    ReplenishmentPeriod = period,
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
            }

            var entry = new Entry(tenant.Length == 0 ? "default" : tenant, bucket, limits.MaxIdsPerCall);
            entries[tenant == "default" ? string.Empty : tenant] = entry;
            if (tenant == "default")
            {
                entries.TryAdd("default", entry);
            }
        }

        _tenants = entries.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>Takes one call from the tenant's bucket and checks its id count; throws the refusal.</summary>
    public void Admit(string tenant, int ids)
    {
        if (IdsError(tenant, ids) is { } error)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, error));
        }

        AdmitCall(tenant);
    }

    /// <summary>The refusal of <paramref name="ids"/> ids in one call for the tenant, or null.</summary>
    public string? IdsError(string tenant, int ids) =>
        _tenants.Count > 0 && _tenants.TryGetValue(tenant, out var entry) && entry.MaxIdsPerCall > 0 && ids > entry.MaxIdsPerCall
            ? $"content_ids: {ids} ids exceed tenant '{entry.Name}''s limit of {entry.MaxIdsPerCall} per call"
            : null;

    /// <summary>Takes one call from the tenant's bucket; throws RESOURCE_EXHAUSTED with a retry hint when it is empty.</summary>
    public void AdmitCall(string tenant)
    {
        if (_tenants.Count == 0 || !_tenants.TryGetValue(tenant, out var entry))
        {
            return;
        }

        if (entry.Bucket is null)
        {
            return;
        }

        using var lease = entry.Bucket.AttemptAcquire(1);
        if (lease.IsAcquired)
        {
            return;
        }

        _metrics?.RateLimited(entry.Name);
        var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromMilliseconds(10);
        var milliseconds = Math.Max(1, (long)Math.Ceiling(retryAfter.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture);
        throw new RpcException(
            new Status(StatusCode.ResourceExhausted, $"tenant '{entry.Name}' is over its limit of calls per second; retry after {milliseconds} ms"),
            new Metadata { { RetryAfterTrailer, milliseconds } });
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var entry in _tenants.Values)
        {
            entry.Bucket?.Dispose();
        }
    }

    private sealed record Entry(string Name, TokenBucketRateLimiter? Bucket, int MaxIdsPerCall);
}
