using System.Diagnostics.Metrics;

namespace ReadHistory.Server.Cache;

/// <summary>The warm-start instruments of one pool (Meter "ReadHistory.Cache", labelled with the pool).</summary>
internal sealed class WarmStartMetrics : IDisposable
{
    private static readonly KeyValuePair<string, object?>[] OutcomeTags =
    [
        new("outcome", "completed"),
        new("outcome", "budget_full"),
        new("outcome", "failed"),
    ];

    private readonly Meter _meter;
    private readonly KeyValuePair<string, object?> _pool;
    private readonly Counter<long> _bytes;
    private readonly Counter<long> _users;
    private readonly Counter<long> _attempts;
    private long _bytesTotal;
    private long _usersTotal;

    /// <summary>Creates the instruments for <paramref name="pool"/> on a Meter of its own (disposed with this).</summary>
    public WarmStartMetrics(string pool)
        : this(new Meter(CacheMetrics.MeterName), pool)
    {
    }

    /// <summary>Creates the instruments for <paramref name="pool"/> on a Meter of <paramref name="meters"/> (a host's: it lives as long as the host).</summary>
    public WarmStartMetrics(IMeterFactory meters, string pool)
        : this(Create(meters), pool)
    {
    }

    private WarmStartMetrics(Meter meter, string pool)
    {
        ArgumentNullException.ThrowIfNull(pool);
        _pool = new("pool", pool);
        _meter = meter;
        _bytes = _meter.CreateCounter<long>("readhistory_cache_warm_start_bytes_total", "By", "Snapshot bytes of filters installed by warm start (as they arrive; a failed attempt drops its filters but not this count)");
        _users = _meter.CreateCounter<long>("readhistory_cache_warm_start_users_total", "{user}", "Filters installed by warm start (as they arrive; see the bytes counter)");
        _attempts = _meter.CreateCounter<long>("readhistory_cache_warm_starts_total", "{attempt}", "Warm starts by outcome: completed, budget_full, failed");
    }

    /// <summary>Snapshot bytes installed so far.</summary>
    public long BytesTotal => Interlocked.Read(ref _bytesTotal);

    /// <summary>Filters installed so far.</summary>
    public long UsersTotal => Interlocked.Read(ref _usersTotal);

    /// <summary>Counts one installed filter of <paramref name="bytes"/> snapshot bytes.</summary>
    public void Installed(long bytes)
    {
        Interlocked.Add(ref _bytesTotal, bytes);
        Interlocked.Increment(ref _usersTotal);
        _bytes.Add(bytes, _pool);
        _users.Add(1, _pool);
    }

    /// <summary>Counts a finished attempt.</summary>
    public void Finished(WarmStartOutcome outcome) => _attempts.Add(1, _pool, OutcomeTags[(int)outcome]);

    /// <inheritdoc />
    public void Dispose() => _meter.Dispose();

    private static Meter Create(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        return meters.Create(CacheMetrics.MeterName);
    }
}
