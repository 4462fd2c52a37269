using System.Collections.Frozen;
using System.Globalization;
using System.Threading.RateLimiting;
using Grpc.Core;
using Microsoft.Extensions.Primitives;
using ReadHistory.Server.Hosting;

namespace ReadHistory.Server.Proxy;

/// <summary>
/// Per-tenant limits at the proxy: a cap on ids per call (INVALID_ARGUMENT: retrying the same call cannot help) and a
/// token bucket of calls per second per caller (RESOURCE_EXHAUSTED with a "retry-after-ms" trailer when empty): one
/// bucket per (API key, tenant) for a call that presented a key, so keys sharing a tenant do not share a budget, and one
/// per tenant for anonymous calls. Tenants without an entry are unlimited.
/// </summary>
/// <remarks>
/// The buckets are the partitions of one <see cref="PartitionedRateLimiter{TResource}"/>: created on a caller's first
/// call, replenished by its timer, dropped once idle and full, so a revoked key's bucket does not stay behind. The
/// limits are re-read when the configuration reloads (<see cref="WatchConfiguration"/>), with the keys: a reload starts
/// new partitions at the new rates (a bucket's options are part of its partition), and the old ones are dropped once idle.
/// </remarks>
internal sealed class TenantLimiter : IDisposable
{
    /// <summary>The trailer carrying the retry hint, in milliseconds.</summary>
    public const string RetryAfterTrailer = Api.Admission.AdmissionControl.RetryAfterTrailer;

    private readonly PartitionedRateLimiter<Caller> _buckets;
    private readonly Func<Caller, RateLimiter> _newBucket;
    private readonly ProxyMetrics? _metrics;
    private volatile Limits _limits;
    private IDisposable? _watch;

    /// <summary>Reads the limits from <paramref name="options"/> (the "default" entry limits the empty tenant).</summary>
    public TenantLimiter(ProxyOptions options, ProxyMetrics? metrics)
    {
        ArgumentNullException.ThrowIfNull(options);
        _metrics = metrics;
        _limits = Build(options);
        _newBucket = NewBucket;
        _buckets = PartitionedRateLimiter.Create<Caller, Caller>(caller => RateLimitPartition.Get(caller, _newBucket));
    }

    /// <summary>Whether any tenant limits calls per second (else a caller's key need not be looked up).</summary>
    public bool LimitsCalls => _limits.LimitsCalls;

    /// <summary>The name of the bucket a tenant is charged to: the empty tenant's is "default", as its limits' entry.</summary>
    public static string BucketName(string tenant) => tenant.Length == 0 ? "default" : tenant;

    /// <summary>
    /// Re-reads ReadHistory:Proxy:Tenants whenever <paramref name="configuration"/> reloads (a key's rate comes and goes
    /// with the key, from the same Secret); a reload with a problem is refused and logged, the limits in force stay.
    /// </summary>
    public void WatchConfiguration(IConfiguration configuration, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        _watch = ChangeToken.OnChange(configuration.GetReloadToken, () => Reload(configuration, logger));
    }

    private void Reload(IConfiguration configuration, ILogger logger)
    {
        if (ReloadedOptions.TryRead<ProxyOptions>(configuration, ProxyOptions.Section, static (o, p) => o.Validate(p), out var problems) is not { } options)
        {
            Log.LimitsReloadRefused(logger, problems);
            return;
        }

        // Every reload lands here (a topology or key change too): swap only a changed set of limits.
        var current = _limits;
        var next = Build(options);
        if (!next.SameAs(current))
        {
            _limits = next;
            Log.LimitsReloaded(logger, options.Tenants.Count);
        }
    }

    private static Limits Build(ProxyOptions options)
    {
        var entries = new Dictionary<string, Entry>(StringComparer.Ordinal);
        var limitsCalls = false;
        foreach (var (tenant, limits) in options.Tenants)
        {
            var keys = limits.Keys.ToFrozenDictionary(
                static k => k.Key,
                k => BucketOf(k.Value.CallsPerSecond > 0 ? k.Value.CallsPerSecond : limits.CallsPerSecond, k.Value.Burst > 0 ? k.Value.Burst : limits.Burst),
                StringComparer.Ordinal);
            var entry = new Entry(BucketName(tenant), BucketOf(limits.CallsPerSecond, limits.Burst), keys, limits.MaxIdsPerCall);
            entries[tenant == "default" ? string.Empty : tenant] = entry;
            entries.TryAdd(entry.Name, entry);
            limitsCalls |= entry.Calls is not null || keys.Values.Any(static k => k is not null);
        }

        var signature = string.Join(";", options.Tenants.OrderBy(static t => t.Key, StringComparer.Ordinal).Select(static t =>
            string.Create(CultureInfo.InvariantCulture, $"{t.Key}:{t.Value.CallsPerSecond}/{t.Value.Burst}/{t.Value.MaxIdsPerCall}[{string.Join(",", t.Value.Keys.OrderBy(static k => k.Key, StringComparer.Ordinal).Select(static k => string.Create(CultureInfo.InvariantCulture, $"{k.Key}={k.Value.CallsPerSecond}/{k.Value.Burst}")))}]")));
        return new Limits(entries.ToFrozenDictionary(StringComparer.Ordinal), limitsCalls, signature);
    }

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
        _limits.Tenants is { Count: > 0 } tenants && tenants.TryGetValue(tenant, out var entry) && entry.MaxIdsPerCall > 0 && ids > entry.MaxIdsPerCall
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
        var limits = _limits;
        if (limits.Tenants.Count == 0 || !limits.Tenants.TryGetValue(tenant, out var entry) || entry.BucketFor(key) is not { } options)
        {
            return null;
        }

        // A key with no bucket of its own on the tenant is still limited apart from the other keys: the partition is per
        // key. The options are part of the partition: after a reload a caller's next call starts a bucket at the new rate.
        using var lease = _buckets.AttemptAcquire(new Caller(key, entry.Name, options));
        if (lease.IsAcquired)
        {
            return null;
        }

        _metrics?.RateLimited(entry.Name, key);
        var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromMilliseconds(100);
        var milliseconds = Math.Max(1, (long)Math.Ceiling(retryAfter.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture);
        var message = key is null
            ? $"tenant '{entry.Name}' is over its limit of calls per second; retry after {milliseconds} ms"
            : $"API key '{key}' is over its limit of calls per second on tenant '{entry.Name}'; retry after {milliseconds} ms";
        return new RpcException(new Status(StatusCode.ResourceExhausted, message), new Metadata { { RetryAfterTrailer, milliseconds } });
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _watch?.Dispose();
        _buckets.Dispose();
    }

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

    private static TokenBucketRateLimiter NewBucket(Caller caller) => new(caller.Options);

    /// <summary>A bucket's partition: the API key (null for anonymous calls), the tenant's name, and its bucket's options (compared by reference: one instance per tenant and key per reload).</summary>
    private readonly record struct Caller(string? Key, string Tenant, TokenBucketRateLimiterOptions Options);

    /// <summary>The limits in force: by tenant (both "" and "default" name the empty tenant's), read as one.</summary>
    private sealed record Limits(FrozenDictionary<string, Entry> Tenants, bool LimitsCalls, string Signature)
    {
        public bool SameAs(Limits other) => string.Equals(Signature, other.Signature, StringComparison.Ordinal);
    }

    private sealed record Entry(string Name, TokenBucketRateLimiterOptions? Calls, FrozenDictionary<string, TokenBucketRateLimiterOptions?> Keys, int MaxIdsPerCall)
    {
        // A key listed under the tenant has its own rate; any other caller has the tenant's.
        public TokenBucketRateLimiterOptions? BucketFor(string? key) =>
            key is not null && Keys.Count > 0 && Keys.TryGetValue(key, out var own) ? own : Calls;
    }
}
