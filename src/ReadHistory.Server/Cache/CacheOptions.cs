using ReadHistory.Core.Filters;

namespace ReadHistory.Server.Cache;

/// <summary>
/// The parameters of one pool's cache (one instance per pool, immutable): made from <see cref="CacheNodeOptions"/>,
/// which holds the configured values and their bounds; tests and benchmarks make their own. Every value is given by
/// whoever creates one (no defaults here, so there is one place for them: appsettings.json); <see cref="Validate"/>
/// only guards what the cache needs to run at all.
/// </summary>
internal sealed class CacheOptions
{
    /// <summary>The pool's name, the tenant tag (feed, push, ...); it labels every metric.</summary>
    public required string Pool { get; init; }

    /// <summary>Most bytes the pool's filters may hold (their own heap accounting); exceeded by at most one filter.</summary>
    public required long BudgetBytes { get; init; }

    /// <summary>How filters are sized: target false-positive rate, headroom, growth, per-user byte cap (MaxBytes).</summary>
    public required BloomFilterOptions Filter { get; init; }

    /// <summary>Rebuilds (count + scan) running at once; more wait their turn.</summary>
    public int RebuildConcurrency { get; init; }

    /// <summary>Rows per second all rebuild scans of the pool may read together; 0 = unlimited.</summary>
    public long RebuildRowsPerSecond { get; init; }

    /// <summary>Attempts of one rebuild before it gives up (the user stays on point queries until the next miss).</summary>
    public int RebuildMaxAttempts { get; init; }

    /// <summary>Wait before the first retry of a failed rebuild; doubles each attempt.</summary>
    public TimeSpan RebuildRetryDelay { get; init; }

    /// <summary>Changes buffered for one user under rebuild; past it the rebuild is abandoned.</summary>
    public int MaxBufferedChangesPerUser { get; init; }

    /// <summary>How the pool's false-positive rate is measured against the database; null = not measured.</summary>
    public FalsePositiveVerifierOptions? Verifier { get; init; }

    /// <summary>Throws when a value would keep the cache from running (the configured bounds are <see cref="CacheNodeOptions.Validate"/>'s).</summary>
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
        Verifier?.Validate();
    }
}
