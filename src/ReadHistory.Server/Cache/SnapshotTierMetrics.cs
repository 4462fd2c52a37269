using Prometheus;

namespace ReadHistory.Server.Cache;

/// <summary>The series of one pool's second tier (T2), labelled with the pool; tests read the counters' own values.</summary>
internal sealed class SnapshotTierMetrics
{
    private readonly Counter.Child _hits;
    private readonly Counter.Child _misses;
    private readonly Counter.Child _stale;
    private readonly Counter.Child _loadErrors;
    private readonly Counter.Child _written;
    private readonly Counter.Child _dropped;
    private readonly Counter.Child _writeErrors;
    private readonly Counter.Child _deleteErrors;
    private readonly Counter.Child _loadErrorSeries;
    private readonly Counter.Child _writeErrorSeries;
    private readonly Counter.Child _bytesWritten;
    private readonly Counter.Child _bytesLoaded;
    private readonly Histogram.Child _loadDuration;
    private readonly Counter.Child _refreshWritten;
    private readonly Counter.Child _refreshFresh;
    private readonly Counter.Child _refreshErrors;
    private readonly Counter.Child _shutdownWritten;
    private readonly Counter.Child _shutdownFresh;
    private readonly Counter.Child _shutdownErrors;

    /// <summary>Creates the series of <paramref name="pool"/> in <paramref name="registry"/> (a throwaway one when null).</summary>
    public SnapshotTierMetrics(string pool, CollectorRegistry? registry = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(pool);
        var factory = Metrics.WithCustomRegistry(registry ?? Metrics.NewCustomRegistry());
        var loads = factory.CreateCounter("readhistory_cache_t2_loads_total", "T1 misses that tried T2, by result: hit (answered from the snapshot), miss (none stored), stale (wrong epoch, trimmed stream, user deleted: dropped), error (Redis failed or passed LoadTimeout)", "pool", "result");
        _hits = loads.WithLabels(pool, "hit");
        _misses = loads.WithLabels(pool, "miss");
        _stale = loads.WithLabels(pool, "stale");
        _loadErrors = loads.WithLabels(pool, "error");
        var writeBacks = factory.CreateCounter("readhistory_cache_t2_writebacks_total", "Filters written back to T2 (evicted, or rebuilt with WriteBackMinRows rows), by result: written, dropped (queue full or no stream position), error", "pool", "result");
        _written = writeBacks.WithLabels(pool, "written");
        _dropped = writeBacks.WithLabels(pool, "dropped");
        _writeErrors = writeBacks.WithLabels(pool, "error");
        var errors = factory.CreateCounter("readhistory_cache_t2_errors_total", "T2 operations that failed (Redis error or deadline), by operation: load, writeback, delete", "pool", "operation");
        _deleteErrors = errors.WithLabels(pool, "delete");
        _loadErrorSeries = errors.WithLabels(pool, "load");
        _writeErrorSeries = errors.WithLabels(pool, "writeback");
        var bytes = factory.CreateCounter("readhistory_cache_t2_bytes_total", "Snapshot bytes moved to and from T2, by direction: written, loaded", "pool", "direction");
        _bytesWritten = bytes.WithLabels(pool, "written");
        _bytesLoaded = bytes.WithLabels(pool, "loaded");
        _loadDuration = factory.CreateHistogram("readhistory_cache_t2_load_duration_seconds", "A T2 hit from the start of the load to the install (GET, catch-up from the stream, install)",
            new HistogramConfiguration { LabelNames = ["pool"], Buckets = MetricBuckets.Seconds }).WithLabels(pool);
        var refreshes = factory.CreateCounter("readhistory_cache_t2_refreshes_total", "Held filters looked at by a T2 refresh, by trigger (periodic, shutdown) and result: written (snapshot missing or older than RefreshMaxAge), fresh (left alone), error (Redis failed: the pass stopped)", "pool", "trigger", "result");
        _refreshWritten = refreshes.WithLabels(pool, "periodic", "written");
        _refreshFresh = refreshes.WithLabels(pool, "periodic", "fresh");
        _refreshErrors = refreshes.WithLabels(pool, "periodic", "error");
        _shutdownWritten = refreshes.WithLabels(pool, "shutdown", "written");
        _shutdownFresh = refreshes.WithLabels(pool, "shutdown", "fresh");
        _shutdownErrors = refreshes.WithLabels(pool, "shutdown", "error");
    }

    /// <summary>Loads answered from T2.</summary>
    public long Hits => (long)_hits.Value;

    /// <summary>Loads that found no snapshot.</summary>
    public long Misses => (long)_misses.Value;

    /// <summary>Snapshots found but not usable (and deleted).</summary>
    public long Stale => (long)_stale.Value;

    /// <summary>Loads that failed (Redis error or deadline).</summary>
    public long LoadErrors => (long)_loadErrors.Value;

    /// <summary>Snapshots written.</summary>
    public long Written => (long)_written.Value;

    /// <summary>Write-backs dropped.</summary>
    public long Dropped => (long)_dropped.Value;

    /// <summary>Held filters written back by refreshes (periodic and at shutdown).</summary>
    public long RefreshWritten => (long)(_refreshWritten.Value + _shutdownWritten.Value);

    /// <summary>Held filters a refresh found fresh enough in T2.</summary>
    public long RefreshFresh => (long)(_refreshFresh.Value + _shutdownFresh.Value);

    /// <summary>Counts a hit and its duration.</summary>
    public void Hit(TimeSpan duration)
    {
        _hits.Inc();
        _loadDuration.Observe(duration.TotalSeconds);
    }

    /// <summary>Counts a miss (no snapshot).</summary>
    public void Miss() => _misses.Inc();

    /// <summary>Counts a stale snapshot.</summary>
    public void StaleSnapshot() => _stale.Inc();

    /// <summary>Counts a failed load.</summary>
    public void LoadError()
    {
        _loadErrors.Inc();
        _loadErrorSeries.Inc();
    }

    /// <summary>Counts a snapshot written and its bytes.</summary>
    public void WriteBack(int bytes)
    {
        _written.Inc();
        _bytesWritten.Inc(bytes);
    }

    /// <summary>Counts a dropped write-back.</summary>
    public void WriteBackDropped() => _dropped.Inc();

    /// <summary>Counts a failed write-back.</summary>
    public void WriteBackError()
    {
        _writeErrors.Inc();
        _writeErrorSeries.Inc();
    }

    /// <summary>Counts a failed delete.</summary>
    public void DeleteError() => _deleteErrors.Inc();

    /// <summary>Counts a held filter a refresh wrote back or found fresh.</summary>
    public void Refreshed(bool shutdown, bool written) =>
        (written ? (shutdown ? _shutdownWritten : _refreshWritten) : (shutdown ? _shutdownFresh : _refreshFresh)).Inc();

    /// <summary>Counts snapshot bytes a refresh wrote (with the write-backs' bytes: one series of bytes written).</summary>
    public void RefreshBytes(int bytes) => _bytesWritten.Inc(bytes);

    /// <summary>Counts a refresh pass stopped by a Redis failure.</summary>
    public void RefreshError(bool shutdown)
    {
        (shutdown ? _shutdownErrors : _refreshErrors).Inc();
        _writeErrorSeries.Inc();
    }

    /// <summary>Counts snapshot bytes loaded.</summary>
    public void Loaded(int bytes) => _bytesLoaded.Inc(bytes);
}
