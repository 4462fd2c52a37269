using Prometheus;
using ReadHistory.Core.Caching;

namespace ReadHistory.Server.Cache;

/// <summary>
/// The series of one cache pool, every one labelled with the pool (the pattern every metrics class follows is in
/// docs/metrics.md, "Adding a metric"). Stats and tests read the counters' own values.
/// </summary>
internal sealed class CacheMetrics : IDisposable
{
    private readonly FilterTable _cache;
    private readonly Func<long> _bufferedChanges;
    private readonly Func<double> _throttledSeconds;

    // Children of fixed label values are made once: the hot path does no label lookup, and each series is exported
    // (as 0) from the start, so a rate over the first scrapes sees every increment.
    private readonly Counter.Child _hits;
    private readonly Counter.Child _misses;
    private readonly Counter.Child _cappedLookups;
    private readonly Counter.Child _passthroughLookups;
    private readonly Counter.Child _installed;
    private readonly Counter.Child _cappedRebuilds;
    private readonly Counter.Child _retried;
    private readonly Counter.Child _failed;
    private readonly Counter.Child _abandoned;
    private readonly Histogram.Child _rebuildDuration;
    private readonly Counter.Child _pointQueries;
    private readonly Counter.Child _rebuildRows;
    private readonly Counter.Child _throttled;
    private readonly Counter.Child _evictions;
    private readonly Counter.Child _peerChanges;
    private readonly Gauge.Child _users;
    private readonly Gauge.Child _bytes;
    private readonly Gauge.Child _buffered;
    private readonly Gauge.Child _falsePositiveRate;
    private readonly Gauge.Child _budget;
    private volatile bool _disposed;

    /// <summary>
    /// Creates the series of <paramref name="pool"/> (whose filters <paramref name="cache"/> holds) in <paramref name="registry"/> (a throwaway registry of
    /// its own when null); <paramref name="bufferedChanges"/> feeds the buffer gauge, <paramref name="throttledSeconds"/>
    /// the rebuild throttle counter.
    /// </summary>
    public CacheMetrics(string pool, FilterTable cache, Func<long> bufferedChanges, Func<double>? throttledSeconds = null, CollectorRegistry? registry = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(pool);
        ArgumentNullException.ThrowIfNull(cache);
        ArgumentNullException.ThrowIfNull(bufferedChanges);
        _cache = cache;
        _bufferedChanges = bufferedChanges;
        _throttledSeconds = throttledSeconds ?? (static () => 0);
        registry ??= Metrics.NewCustomRegistry();
        var factory = Metrics.WithCustomRegistry(registry);

        var lookups = factory.CreateCounter("readhistory_cache_lookups_total", "Checks by result: hit (filter), miss (point query, rebuild started), capped (user too large), passthrough", "pool", "result");
        _hits = lookups.WithLabels(pool, "hit");
        _misses = lookups.WithLabels(pool, "miss");
        _cappedLookups = lookups.WithLabels(pool, "capped");
        _passthroughLookups = lookups.WithLabels(pool, "passthrough");
        var rebuilds = factory.CreateCounter("readhistory_cache_rebuilds_total", "Rebuild attempts by outcome: installed, capped, retried, failed, abandoned", "outcome", "pool");
        _installed = rebuilds.WithLabels("installed", pool);
        _cappedRebuilds = rebuilds.WithLabels("capped", pool);
        _retried = rebuilds.WithLabels("retried", pool);
        _failed = rebuilds.WithLabels("failed", pool);
        _abandoned = rebuilds.WithLabels("abandoned", pool);
        _rebuildDuration = factory.CreateHistogram("readhistory_cache_rebuild_duration_seconds", "Time from a rebuild's start to its install, retries included",
            new HistogramConfiguration { LabelNames = ["pool"], Buckets = MetricBuckets.Seconds }).WithLabels(pool);
        _pointQueries = factory.CreateCounter("readhistory_cache_point_queries_total", "Point queries the cache node made (misses, capped users, passthrough)", "pool").WithLabels(pool);
        _rebuildRows = factory.CreateCounter("readhistory_cache_rebuild_rows_total", "Rows rebuild scans read", "pool").WithLabels(pool);
        _throttled = factory.CreateCounter("readhistory_cache_rebuild_throttled_seconds_total", "Time rebuild scans waited for the pool's row-rate budget (RebuildRowsPerSecond)", "pool").WithLabels(pool);
        _users = factory.CreateGauge("readhistory_cache_users", "Users held (capped markers included)", "pool").WithLabels(pool);
        _bytes = factory.CreateGauge("readhistory_cache_bytes", "Bytes the held filters take (their own heap accounting)", "pool").WithLabels(pool);
        _budget = factory.CreateGauge("readhistory_cache_budget_bytes", "The pool's byte budget", "pool").WithLabels(pool);
        _budget.Set(cache.BudgetBytes);
        _evictions = factory.CreateCounter("readhistory_cache_evictions_total", "Users evicted to stay under budget", "pool").WithLabels(pool);
        _buffered = factory.CreateGauge("readhistory_cache_buffered_changes", "Changes buffered for users under rebuild", "pool").WithLabels(pool);
        _falsePositiveRate = factory.CreateGauge("readhistory_cache_false_positive_rate_estimate", "Mean false-positive rate the held filters' models estimate at their fill", "pool").WithLabels(pool);
        _peerChanges = factory.CreateCounter("readhistory_fanout_changes_applied_total", "Changes (content ids and user deletions) received from peer replicas of the slot and applied (peer fan-out)", "pool").WithLabels(pool);
        registry.AddBeforeCollectCallback(Observe);
    }

    /// <summary>Lookups answered from a filter.</summary>
    public long Hits => (long)_hits.Value;

    /// <summary>Lookups of users not held.</summary>
    public long Misses => (long)_misses.Value;

    /// <summary>Lookups of capped users.</summary>
    public long CappedLookups => (long)_cappedLookups.Value;

    /// <summary>Rebuilds that installed a filter or a capped marker.</summary>
    public long Installs => (long)(_installed.Value + _cappedRebuilds.Value);

    /// <summary>Rebuilds that gave up after their last attempt.</summary>
    public long Failures => (long)_failed.Value;

    /// <summary>Point queries made.</summary>
    public long PointQueries => (long)_pointQueries.Value;

    /// <summary>Rows rebuild scans read.</summary>
    public long RebuildRowCount => (long)_rebuildRows.Value;

    /// <summary>Changes received from peer replicas and applied.</summary>
    public long PeerChangesApplied => (long)_peerChanges.Value;

    /// <summary>Counts changes received from peer replicas and applied.</summary>
    public void PeerChanges(long changes) => _peerChanges.Inc(changes);

    /// <summary>Counts a lookup answered from a filter.</summary>
    public void LookupHit() => _hits.Inc();

    /// <summary>Counts a lookup of a user not held.</summary>
    public void LookupMiss() => _misses.Inc();

    /// <summary>Counts a lookup of a capped user.</summary>
    public void LookupCapped() => _cappedLookups.Inc();

    /// <summary>Counts a passthrough lookup.</summary>
    public void LookupPassthrough() => _passthroughLookups.Inc();

    /// <summary>Counts rows a rebuild scan read.</summary>
    public void RebuildRows(int rows)
    {
        if (rows > 0)
        {
            _rebuildRows.Inc(rows);
        }
    }

    /// <summary>Counts a point query.</summary>
    public void PointQuery() => _pointQueries.Inc();

    /// <summary>Counts an installed rebuild and records its duration.</summary>
    public void RebuildInstalled(bool capped, TimeSpan duration)
    {
        (capped ? _cappedRebuilds : _installed).Inc();
        _rebuildDuration.Observe(duration.TotalSeconds);
    }

    /// <summary>Counts a failed attempt that will be retried.</summary>
    public void RebuildRetried() => _retried.Inc();

    /// <summary>Counts a rebuild that gave up.</summary>
    public void RebuildFailed() => _failed.Inc();

    /// <summary>Counts a rebuild abandoned (user forgotten, buffer full, shutdown).</summary>
    public void RebuildAbandoned() => _abandoned.Inc();

    /// <summary>Takes the pool's series out of the exposition, as the cache goes.</summary>
    public void Dispose()
    {
        // A registry's callbacks cannot be removed: the flag turns this one into a no-op.
        _disposed = true;
        ChildBase[] children =
        [
            _hits, _misses, _cappedLookups, _passthroughLookups, _installed, _cappedRebuilds, _retried, _failed, _abandoned,
            _rebuildDuration, _pointQueries, _rebuildRows, _throttled, _evictions, _users, _bytes, _buffered, _falsePositiveRate, _budget, _peerChanges,
        ];
        foreach (var child in children)
        {
            child.Remove();
        }
    }

    // Runs before each scrape: the figures the cache keeps itself are copied into their series.
    private void Observe()
    {
        if (_disposed)
        {
            return;
        }

        _users.Set(_cache.Users);
        _bytes.Set(_cache.Bytes);
        _buffered.Set(_bufferedChanges());
        _falsePositiveRate.Set(_cache.EstimateFalsePositiveRate());
        _evictions.IncTo(_cache.Evictions);
        _throttled.IncTo(_throttledSeconds());
    }
}
