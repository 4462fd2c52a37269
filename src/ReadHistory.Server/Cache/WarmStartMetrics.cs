using Prometheus;

namespace ReadHistory.Server.Cache;

/// <summary>The warm-start series of one pool, labelled with the pool (pattern: docs/metrics.md, "Adding a metric").</summary>
internal sealed class WarmStartMetrics : IDisposable
{
    private readonly Counter.Child _bytes;
    private readonly Counter.Child _users;

    // Indexed by WarmStartOutcome; made at start so every outcome is exported (as 0) before the first attempt ends.
    private readonly Counter.Child[] _attempts;

    /// <summary>Creates the series for <paramref name="pool"/> in <paramref name="registry"/> (a throwaway registry of its own when null).</summary>
    public WarmStartMetrics(string pool, CollectorRegistry? registry = null)
    {
        ArgumentNullException.ThrowIfNull(pool);
        var factory = Metrics.WithCustomRegistry(registry ?? Metrics.NewCustomRegistry());
        _bytes = factory.CreateCounter("readhistory_cache_warm_start_bytes_total", "Snapshot bytes of filters installed by warm start (as they arrive; a failed attempt drops its filters but not this count)", "pool").WithLabels(pool);
        _users = factory.CreateCounter("readhistory_cache_warm_start_users_total", "Filters installed by warm start (as they arrive; see the bytes counter)", "pool").WithLabels(pool);
        var attempts = factory.CreateCounter("readhistory_cache_warm_starts_total", "Warm starts by outcome: completed, budget_full, failed", "outcome", "pool");
        _attempts = [attempts.WithLabels("completed", pool), attempts.WithLabels("budget_full", pool), attempts.WithLabels("failed", pool)];
    }

    /// <summary>Snapshot bytes installed so far.</summary>
    public long BytesTotal => (long)_bytes.Value;

    /// <summary>Filters installed so far.</summary>
    public long UsersTotal => (long)_users.Value;

    /// <summary>Counts one installed filter of <paramref name="bytes"/> snapshot bytes.</summary>
    public void Installed(long bytes)
    {
        _bytes.Inc(bytes);
        _users.Inc();
    }

    /// <summary>Counts a finished attempt.</summary>
    public void Finished(WarmStartOutcome outcome) => _attempts[(int)outcome].Inc();

    /// <summary>Takes the series out of the exposition, as their owner (a node, or a starter's own counters) goes.</summary>
    public void Dispose()
    {
        _bytes.Remove();
        _users.Remove();
        foreach (var attempt in _attempts)
        {
            attempt.Remove();
        }
    }
}
