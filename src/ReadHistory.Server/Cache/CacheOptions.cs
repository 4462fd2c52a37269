using ReadHistory.Core.Filters;

namespace ReadHistory.Server.Cache;

/// <summary>The settings of one cache pool on a cache node (one instance per pool, immutable).</summary>
internal sealed class CacheOptions
{
    /// <summary>
    /// Half the cores, at least one: a rebuild scan keeps about one core busy between this node and the database, so
    /// more at once would take the cores the point queries of misses need (measured in bench/RESULTS.md).
    /// </summary>
    public static readonly int DefaultRebuildConcurrency = Math.Max(1, Environment.ProcessorCount / 2);

    /// <summary>The default row-rate budget of rebuild scans (chosen by the cache-node benchmark; see bench/RESULTS.md).</summary>
    public const long DefaultRebuildRowsPerSecond = 500_000;

    /// <summary>The pool's name, the tenant tag (feed, push, ...); it labels every metric.</summary>
    public string Pool { get; init; } = "default";

    /// <summary>Most bytes the pool's filters may hold (their own heap accounting); exceeded by at most one filter.</summary>
    public long BudgetBytes { get; init; } = 1L << 30;

    /// <summary>How filters are sized: target false-positive rate, headroom, growth, per-user byte cap (MaxBytes).</summary>
    public BloomFilterOptions Filter { get; init; } = BloomFilterOptions.Default;

    /// <summary>Rebuilds (count + scan) running at once; more wait their turn (default <see cref="DefaultRebuildConcurrency"/>).</summary>
    public int RebuildConcurrency { get; init; } = DefaultRebuildConcurrency;

    /// <summary>Rows per second all rebuild scans of the pool may read together; 0 = unlimited (default <see cref="DefaultRebuildRowsPerSecond"/>).</summary>
    public long RebuildRowsPerSecond { get; init; } = DefaultRebuildRowsPerSecond;

    /// <summary>Attempts of one rebuild before it gives up (the user stays on point queries until the next miss).</summary>
    public int RebuildMaxAttempts { get; init; } = 5;

    /// <summary>Wait before the first retry of a failed rebuild; doubles each attempt (default 200 ms).</summary>
    public TimeSpan RebuildRetryDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Changes buffered for one user under rebuild; past it the rebuild is abandoned (default 100,000).</summary>
    public int MaxBufferedChangesPerUser { get; init; } = 100_000;

    /// <summary>Throws when a setting is out of range.</summary>
    public void Validate()
    {
        ArgumentException.ThrowIfNullOrEmpty(Pool);
        ArgumentNullException.ThrowIfNull(Filter);
        ArgumentOutOfRangeException.ThrowIfLessThan(BudgetBytes, 1, nameof(BudgetBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(RebuildConcurrency, 1, nameof(RebuildConcurrency));
        ArgumentOutOfRangeException.ThrowIfNegative(RebuildRowsPerSecond, nameof(RebuildRowsPerSecond));
        ArgumentOutOfRangeException.ThrowIfLessThan(RebuildMaxAttempts, 1, nameof(RebuildMaxAttempts));
        ArgumentOutOfRangeException.ThrowIfLessThan(RebuildRetryDelay, TimeSpan.Zero, nameof(RebuildRetryDelay));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBufferedChangesPerUser, 1, nameof(MaxBufferedChangesPerUser));
    }
}
