using System.Diagnostics.Metrics;

namespace ReadHistory.Server.Cache;

/// <summary>
/// The instruments of one cache pool (Meter "ReadHistory.Cache", every measurement labelled with the pool). The
/// counters are mirrored in plain fields so that Stats and tests read them without a listener.
/// </summary>
internal sealed class CacheMetrics : IDisposable
{
    /// <summary>The meter name.</summary>
    public const string MeterName = "ReadHistory.Cache";

    private static readonly KeyValuePair<string, object?> Hit = new("result", "hit");
    private static readonly KeyValuePair<string, object?> Miss = new("result", "miss");
    private static readonly KeyValuePair<string, object?> Capped = new("result", "capped");
    private static readonly KeyValuePair<string, object?> Passthrough = new("result", "passthrough");
    private static readonly KeyValuePair<string, object?> Installed = new("outcome", "installed");
    private static readonly KeyValuePair<string, object?> CappedOutcome = new("outcome", "capped");
    private static readonly KeyValuePair<string, object?> Failed = new("outcome", "failed");
    private static readonly KeyValuePair<string, object?> Retried = new("outcome", "retried");
    private static readonly KeyValuePair<string, object?> Abandoned = new("outcome", "abandoned");

    private readonly Meter _meter;
    private readonly KeyValuePair<string, object?> _pool;
    private readonly Counter<long> _lookups;
    private readonly Counter<long> _rebuilds;
    private readonly Histogram<double> _rebuildDuration;
    private readonly Counter<long> _pointQueries;
    private readonly Counter<long> _rebuildRows;
    private long _hits;
    private long _misses;
    private long _cappedLookups;
    private long _installs;
    private long _failures;
    private long _pointQueryCount;
    private long _rebuildRowCount;

    /// <summary>Creates the instruments of <paramref name="cache"/>'s pool; <paramref name="bufferedChanges"/> feeds the buffer gauge, <paramref name="throttledSeconds"/> the rebuild throttle counter.</summary>
    public CacheMetrics(FilterCache cache, Func<long> bufferedChanges, Func<double>? throttledSeconds = null)
    {
        ArgumentNullException.ThrowIfNull(cache);
        ArgumentNullException.ThrowIfNull(bufferedChanges);
        throttledSeconds ??= static () => 0;
        _pool = new("pool", cache.Options.Pool);
        _meter = new Meter(MeterName);
        _lookups = _meter.CreateCounter<long>("readhistory_cache_lookups_total", "{lookup}", "Checks by result: hit (filter), miss (point query, rebuild started), capped (user too large), passthrough");
        _rebuilds = _meter.CreateCounter<long>("readhistory_cache_rebuilds_total", "{rebuild}", "Rebuild attempts by outcome: installed, capped, retried, failed, abandoned");
        _rebuildDuration = _meter.CreateHistogram<double>("readhistory_cache_rebuild_duration_seconds", "s", "Time from a rebuild's start to its install, retries included");
        _pointQueries = _meter.CreateCounter<long>("readhistory_cache_point_queries_total", "{query}", "Point queries the cache node made (misses, capped users, passthrough)");
        _rebuildRows = _meter.CreateCounter<long>("readhistory_cache_rebuild_rows_total", "{row}", "Rows rebuild scans read");
        var pool = _pool;
        _meter.CreateObservableCounter("readhistory_cache_rebuild_throttled_seconds_total", () => new Measurement<double>(throttledSeconds(), pool), "s", "Time rebuild scans waited for the pool's row-rate budget (RebuildRowsPerSecond)");
        _meter.CreateObservableGauge("readhistory_cache_users", () => new Measurement<long>(cache.Users, pool), "{user}", "Users held (capped markers included)");
        _meter.CreateObservableGauge("readhistory_cache_bytes", () => new Measurement<long>(cache.Bytes, pool), "By", "Bytes the held filters take (their own heap accounting)");
        _meter.CreateObservableGauge("readhistory_cache_budget_bytes", () => new Measurement<long>(cache.BudgetBytes, pool), "By", "The pool's byte budget");
        _meter.CreateObservableCounter("readhistory_cache_evictions_total", () => new Measurement<long>(cache.Evictions, pool), "{user}", "Users evicted to stay under budget");
        _meter.CreateObservableGauge("readhistory_cache_buffered_changes", () => new Measurement<long>(bufferedChanges(), pool), "{change}", "Changes buffered for users under rebuild");
        _meter.CreateObservableGauge("readhistory_cache_false_positive_rate_estimate", () => new Measurement<double>(cache.EstimateFalsePositiveRate(), pool), "1", "Mean false-positive rate the held filters' models estimate at their fill");
    }

    /// <summary>Lookups answered from a filter.</summary>
    public long Hits => Interlocked.Read(ref _hits);

    /// <summary>Lookups of users not held.</summary>
    public long Misses => Interlocked.Read(ref _misses);

    /// <summary>Lookups of capped users.</summary>
    public long CappedLookups => Interlocked.Read(ref _cappedLookups);

    /// <summary>Rebuilds that installed a filter or a capped marker.</summary>
    public long Installs => Interlocked.Read(ref _installs);

    /// <summary>Rebuilds that gave up after their last attempt.</summary>
    public long Failures => Interlocked.Read(ref _failures);

    /// <summary>Point queries made.</summary>
    public long PointQueries => Interlocked.Read(ref _pointQueryCount);

    /// <summary>Counts a lookup answered from a filter.</summary>
    public void LookupHit()
    {
        Interlocked.Increment(ref _hits);
        _lookups.Add(1, _pool, Hit);
    }

    /// <summary>Counts a lookup of a user not held.</summary>
    public void LookupMiss()
    {
        Interlocked.Increment(ref _misses);
        _lookups.Add(1, _pool, Miss);
    }

    /// <summary>Counts a lookup of a capped user.</summary>
    public void LookupCapped()
    {
        Interlocked.Increment(ref _cappedLookups);
        _lookups.Add(1, _pool, Capped);
    }

    /// <summary>Counts a passthrough lookup.</summary>
    public void LookupPassthrough() => _lookups.Add(1, _pool, Passthrough);

    /// <summary>Rows rebuild scans read.</summary>
    public long RebuildRowCount => Interlocked.Read(ref _rebuildRowCount);

    /// <summary>Counts rows a rebuild scan read.</summary>
    public void RebuildRows(int rows)
    {
        if (rows > 0)
        {
            Interlocked.Add(ref _rebuildRowCount, rows);
            _rebuildRows.Add(rows, _pool);
        }
    }

    /// <summary>Counts a point query.</summary>
    public void PointQuery()
    {
        Interlocked.Increment(ref _pointQueryCount);
        _pointQueries.Add(1, _pool);
    }

    /// <summary>Counts an installed rebuild and records its duration.</summary>
    public void RebuildInstalled(bool capped, TimeSpan duration)
    {
        Interlocked.Increment(ref _installs);
        _rebuilds.Add(1, _pool, capped ? CappedOutcome : Installed);
        _rebuildDuration.Record(duration.TotalSeconds, _pool);
    }

    /// <summary>Counts a failed attempt that will be retried.</summary>
    public void RebuildRetried() => _rebuilds.Add(1, _pool, Retried);

    /// <summary>Counts a rebuild that gave up.</summary>
    public void RebuildFailed()
    {
        Interlocked.Increment(ref _failures);
        _rebuilds.Add(1, _pool, Failed);
    }

    /// <summary>Counts a rebuild abandoned (user forgotten, buffer full, shutdown).</summary>
    public void RebuildAbandoned() => _rebuilds.Add(1, _pool, Abandoned);

    /// <inheritdoc />
    public void Dispose() => _meter.Dispose();
}
