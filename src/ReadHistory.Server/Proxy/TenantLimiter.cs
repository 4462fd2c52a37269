using System.Collections.Frozen;
using System.Globalization;
using System.Threading.RateLimiting;
using Grpc.Core;

namespace ReadHistory.Server.Proxy;

/// <summary>
/// Per-tenant limits at the proxy: a cap on ids per call (INVALID_ARGUMENT: retrying the same call cannot help) and a
/// token bucket of calls per second per caller (RESOURCE_EXHAUSTED with a "retry-after-ms" trailer when empty): one
/// bucket per (API key, tenant) for a call that presented a key, so keys sharing a tenant do not share a budget, and one
/// per tenant for anonymous calls. Tenants without an entry are unlimited.
/// </summary>
/// <remarks>
/// The buckets are the partitions of one <see cref="PartitionedRateLimiter{TResource}"/>: created on a caller's first
/// call, replenished by its timer, dropped once idle and full, so a revoked key's bucket does not stay behind.
/// </remarks>
internal sealed class TenantLimiter : IDisposable
{
    /// <summary>The trailer carrying the retry hint, in milliseconds.</summary>
    public const string RetryAfterTrailer = Api.Admission.AdmissionControl.RetryAfterTrailer;

    private readonly FrozenDictionary<string, Entry> _tenants;
    private readonly PartitionedRateLimiter<Caller> _buckets;
    private readonly Func<Caller, RateLimiter> _newBucket;
    private readonly ProxyMetrics? _metrics;

    /// <summary>Reads the limits from <paramref name="options"/> (the "default" entry limits the empty tenant).</summary>
    public TenantLimiter(ProxyOptions options, ProxyMetrics? metrics)
    {
        ArgumentNullException.ThrowIfNull(options);
        _metrics = metrics;
        var entries = new Dictionary<string, Entry>(StringComparer.Ordinal);
        foreach (var (tenant, limits) in options.Tenants)
        {
            var keys = limits.Keys.ToFrozenDictionary(
                static k => k.Key,
                k => BucketOf(k.Value.CallsPerSecond > 0 ? k.Value.CallsPerSecond : limits.CallsPerSecond, k.Value.Burst > 0 ? k.Value.Burst : limits.Burst),
                StringComparer.Ordinal);
            var entry = new Entry(tenant.Length == 0 ? "default" : tenant, BucketOf(limits.CallsPerSecond, limits.Burst), keys, limits.MaxIdsPerCall);
            entries[tenant == "default" ? string.Empty : tenant] = entry;
            entries.TryAdd(entry.Name, entry);
            LimitsCalls |= entry.Calls is not null || keys.Values.Any(static k => k is not null);
        }

        _tenants = entries.ToFrozenDictionary(StringComparer.Ordinal);
        _newBucket = NewBucket;
        _buckets = PartitionedRateLimiter.Create<Caller, Caller>(caller => RateLimitPartition.Get(caller, _newBucket));
    }

    /// <summary>Whether any tenant limits calls per second (else a caller's key need not be looked up).</summary>
    public bool LimitsCalls { get; }

    /// <summary>Checks the call's id count against the tenant's cap, then takes one call from the caller's bucket; throws the refusal.</summary>
    /// <param name="key">The id of the API key the call presented, or null for an anonymous call.</param>
    /// <param name="tenant">The call's tenant.</param>
    /// <param name="ids">The call's content ids (or items).</param>
    public void Admit(string? key, string tenant, int ids)
    {
        if (IdsError(tenant, ids) is { } error)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, error));
        }

        AdmitCall(key, tenant);
    }

    /// <summary>The refusal of <paramref name="ids"/> ids in one call for the tenant, or null.</summary>
    public string? IdsError(string tenant, int ids) =>
        _tenants.Count > 0 && _tenants.TryGetValue(tenant, out var entry) && entry.MaxIdsPerCall > 0 && ids > entry.MaxIdsPerCall
            ? $"content_ids: {ids} ids exceed tenant '{entry.Name}''s limit of {entry.MaxIdsPerCall} per call"
            : null;

    /// <summary>Takes one call from the bucket of <paramref name="key"/> (null: anonymous) on the tenant; throws RESOURCE_EXHAUSTED with a retry hint when it is empty.</summary>
    public void AdmitCall(string? key, string tenant)
    {
        if (Refusal(key, tenant) is { } refusal)
        {
            throw refusal;
        }
    }

    /// <summary>
    /// Takes one call from the bucket of <paramref name="key"/> (null: anonymous) on the tenant and returns null, or the
    /// RESOURCE_EXHAUSTED refusal (not thrown) when the bucket is empty. It names the tenant and the caller's own key.
    /// </summary>
    public RpcException? Refusal(string? key, string tenant)
    {
        if (_tenants.Count == 0 || !_tenants.TryGetValue(tenant, out var entry) || entry.BucketFor(key) is null)
        {
            return null;
        }

        // A key with no bucket of its own on the tenant is still limited apart from the other keys: the partition is per key.
        using var lease = _buckets.AttemptAcquire(new Caller(key, entry.Name));
        if (lease.IsAcquired)
        {
            return null;
        }

        _metrics?.RateLimited(entry.Name);
        var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromMilliseconds(100);
        var milliseconds = Math.Max(1, (long)Math.Ceiling(retryAfter.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture);
        var message = key is null
            ? $"tenant '{entry.Name}' is over its limit of calls per second; retry after {milliseconds} ms"
            : $"API key '{key}' is over its limit of calls per second on tenant '{entry.Name}'; retry after {milliseconds} ms";
        return new RpcException(new Status(StatusCode.ResourceExhausted, message), new Metadata { { RetryAfterTrailer, milliseconds } });
    }

    /// <inheritdoc />
    public void Dispose() => _buckets.Dispose();

    // Replenished by the partitioned limiter's timer (every 100 ms), as RateLimitPartition.GetTokenBucketLimiter does;
    // the rate is the fill rate TokensPerPeriod / ReplenishmentPeriod, whatever the period.
    private static TokenBucketRateLimiterOptions? BucketOf(double callsPerSecond, int burst)
    {
        if (callsPerSecond <= 0)
        {
            return null;
        }

        var perPeriod = Math.Max(1, (int)Math.Ceiling(callsPerSecond / 10));
        return new TokenBucketRateLimiterOptions
        {
            TokenLimit = burst > 0 ? burst : Math.Max(1, (int)Math.Ceiling(callsPerSecond)),
            TokensPerPeriod = perPeriod,
            ReplenishmentPeriod = TimeSpan.FromSeconds(perPeriod / callsPerSecond),
            QueueLimit = 0,
            AutoReplenishment = false,
        };
    }

    private TokenBucketRateLimiter NewBucket(Caller caller) => new TokenBucketRateLimiter(_tenants[caller.Tenant].BucketFor(caller.Key)!);

    /// <summary>A bucket's partition: the API key (null for anonymous calls) and the tenant's name.</summary>
    private readonly record struct Caller(string? Key, string Tenant);

    private sealed record Entry(string Name, TokenBucketRateLimiterOptions? Calls, FrozenDictionary<string, TokenBucketRateLimiterOptions?> Keys, int MaxIdsPerCall)
    {
        // A key listed under the tenant has its own rate; any other caller has the tenant's.
        public TokenBucketRateLimiterOptions? BucketFor(string? key) =>
            key is not null && Keys.Count > 0 && Keys.TryGetValue(key, out var own) ? own : Calls;
    }
}
