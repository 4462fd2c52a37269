using Prometheus;

namespace ReadHistory.Server.Proxy;

/// <summary>
/// The proxy's series: readhistory_proxy_replica_healthy{pool,replica,slot} (1 = routable),
/// readhistory_proxy_replicas{pool,state} (replicas fresh, stale or down), and counters of
/// passthrough answers, failovers, calls refused at a replica's in-flight bound and rate-limited calls by pool or tenant (pattern: docs/metrics.md, "Adding a metric").
/// </summary>
internal sealed class ProxyMetrics : IDisposable
{
    private readonly ProxyRouter _router;
    private readonly Gauge _healthy;
    private readonly Gauge _states;
    private readonly Counter _passthrough;
    private readonly Counter _failovers;
    private readonly Counter _limited;
    private readonly Counter _replicaRefused;
    private readonly HashSet<(string Pool, string Replica, string Slot)> _published = [];
    private volatile bool _disposed;

    /// <summary>Creates the series in <paramref name="registry"/>; the health gauge follows <paramref name="router"/>'s current table at each scrape.</summary>
    public ProxyMetrics(CollectorRegistry registry, ProxyRouter router)
    {
        ArgumentNullException.ThrowIfNull(registry);
        _router = router;
        var factory = Metrics.WithCustomRegistry(registry);
        _healthy = factory.CreateGauge("readhistory_proxy_replica_healthy", "1 when the replica takes traffic (health probe SERVING and breaker closed), else 0.", "pool", "replica", "slot");
        _states = factory.CreateGauge("readhistory_proxy_replicas", "Replicas of the current table by state: fresh (routable, within its staleness bound), stale (routable, past it: used only while no fresh one of its slot is left), down (not routable).", "pool", "state");
        _passthrough = factory.CreateCounter("readhistory_proxy_passthrough_total", "Calls answered by a node of another slot because every replica of the user's slot was down.", "pool");
        _failovers = factory.CreateCounter("readhistory_proxy_failovers_total", "Attempts that failed on a replica and moved on to the next one.", "pool");
        // The key label is bounded: a key or certificate id comes from the configuration ("" for an anonymous call).
        _limited = factory.CreateCounter("readhistory_proxy_rate_limited_total", "Calls refused with RESOURCE_EXHAUSTED by a tenant's rate limit, by the caller's key (or certificate) id.", "tenant", "key");
        _replicaRefused = factory.CreateCounter("readhistory_proxy_replica_refused_total", "Calls refused with RESOURCE_EXHAUSTED at the proxy because the replica they routed to had ReadHistory:Proxy:ReplicaInFlight calls of their class in flight (not sent; not counted against the replica).", "pool", "class");
        foreach (var pool in router.Current.Pools)
        {
            // Exported as 0 from the start, so an alert on their increase sees the first one.
            _passthrough.WithLabels(pool.Name);
            _failovers.WithLabels(pool.Name);
            foreach (var callClass in (ReadOnlySpan<string>)["checks", "writes", "batch"])
            {
                _replicaRefused.WithLabels(pool.Name, callClass);
            }
        }

        registry.AddBeforeCollectCallback(ObserveHealth);
    }

    /// <summary>Counts a passthrough answer.</summary>
    public void Passthrough(string pool) => _passthrough.WithLabels(pool).Inc();

    /// <summary>Counts a failed attempt that moved on.</summary>
    public void Failover(string pool) => _failovers.WithLabels(pool).Inc();

    /// <summary>Counts a call refused because its replica had its class's bound in flight (<paramref name="callClass"/>: "checks", "writes", "batch").</summary>
    public void ReplicaRefused(string pool, string callClass) => _replicaRefused.WithLabels(pool, callClass).Inc();

    /// <summary>Counts a rate-limited call.</summary>
    public void RateLimited(string tenant, string? key) => _limited.WithLabels(tenant, key ?? string.Empty).Inc();

    /// <summary>Stops following the routing table (a registry's callbacks cannot be removed: this one turns into a no-op).</summary>
    public void Dispose() => _disposed = true;

    // Runs before each scrape: one series per replica of the current table; replicas gone from it (topology reload) go.
    private void ObserveHealth()
    {
        if (_disposed)
        {
            return;
        }

        lock (_published)
        {
            var current = new HashSet<(string, string, string)>();
            foreach (var pool in _router.Current.Pools)
            {
                int fresh = 0, stale = 0, down = 0;
                foreach (var slot in pool.Slots)
                {
                    foreach (var replica in slot.Replicas)
                    {
                        current.Add((pool.Name, replica.Address, slot.Label));
                        _healthy.WithLabels(pool.Name, replica.Address, slot.Label).Set(replica.IsUsable ? 1 : 0);
                        _ = !replica.IsUsable ? down++ : replica.IsStale ? stale++ : fresh++;
                    }
                }

                _states.WithLabels(pool.Name, "fresh").Set(fresh);
                _states.WithLabels(pool.Name, "stale").Set(stale);
                _states.WithLabels(pool.Name, "down").Set(down);
            }

            foreach (var (pool, replica, slot) in _published)
            {
                if (!current.Contains((pool, replica, slot)))
                {
                    _healthy.RemoveLabelled(pool, replica, slot);
                }
            }

            _published.Clear();
            _published.UnionWith(current);
        }
    }
}
