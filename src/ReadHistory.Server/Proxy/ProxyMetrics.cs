using System.Diagnostics.Metrics;

namespace ReadHistory.Server.Proxy;

/// <summary>
/// The proxy's series: readhistory_proxy_replica_healthy{pool,slot,replica} (1 = routable), and counters of
/// passthrough answers, failovers and rate-limited calls by pool or tenant.
/// </summary>
internal sealed class ProxyMetrics : IDisposable
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "ReadHistory.Proxy";

    private readonly Meter _meter;
    private readonly Counter<long> _passthrough;
    private readonly Counter<long> _failovers;
    private readonly Counter<long> _limited;

    /// <summary>Creates the instruments; the health gauge reads <paramref name="router"/>'s current table when scraped.</summary>
    public ProxyMetrics(IMeterFactory meterFactory, ProxyRouter router)
    {
        _meter = meterFactory.Create(MeterName);
        _meter.CreateObservableGauge("readhistory_proxy_replica_healthy", () => Observe(router.Current), description: "1 when the replica takes traffic (health probe SERVING and breaker closed), else 0.");
        _passthrough = _meter.CreateCounter<long>("readhistory_proxy_passthrough_total", description: "Calls answered by a node of another slot because every replica of the user's slot was down.");
        _failovers = _meter.CreateCounter<long>("readhistory_proxy_failovers_total", description: "Attempts that failed on a replica and moved on to the next one.");
        _limited = _meter.CreateCounter<long>("readhistory_proxy_rate_limited_total", description: "Calls refused with RESOURCE_EXHAUSTED by a tenant's rate limit.");
    }

    /// <summary>Counts a passthrough answer.</summary>
    public void Passthrough(string pool) => _passthrough.Add(1, new KeyValuePair<string, object?>("pool", pool));

    /// <summary>Counts a failed attempt that moved on.</summary>
    public void Failover(string pool) => _failovers.Add(1, new KeyValuePair<string, object?>("pool", pool));

    /// <summary>Counts a rate-limited call.</summary>
    public void RateLimited(string tenant) => _limited.Add(1, new KeyValuePair<string, object?>("tenant", tenant));

    /// <inheritdoc />
    public void Dispose() => _meter.Dispose();

    private static IEnumerable<Measurement<int>> Observe(RoutingTable table)
    {
        foreach (var pool in table.Pools)
        {
            foreach (var slot in pool.Slots)
            {
                foreach (var replica in slot.Replicas)
                {
                    yield return new Measurement<int>(
                        replica.IsUsable ? 1 : 0,
                        new KeyValuePair<string, object?>("pool", pool.Name),
                        new KeyValuePair<string, object?>("slot", slot.Label),
                        new KeyValuePair<string, object?>("replica", replica.Address));
                }
            }
        }
    }
}
