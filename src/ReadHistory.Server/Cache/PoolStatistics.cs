namespace ReadHistory.Server.Cache;

/// <summary>The figures of one cache pool at one moment (the Api room maps them to the internal Stats call's PoolStats).</summary>
/// <param name="Pool">The pool's name (tenant tag).</param>
/// <param name="Users">Users held (capped ones included).</param>
/// <param name="Bytes">Bytes charged to the pool's filter table.</param>
/// <param name="BudgetBytes">The pool's byte budget.</param>
/// <param name="Hits">Lookups answered from a filter since start.</param>
/// <param name="Misses">Lookups that found no filter since start.</param>
/// <param name="Evictions">Users evicted since start.</param>
/// <param name="RebuildsInFlight">Rebuilds running, queued or waiting to retry.</param>
/// <param name="CappedUsers">Users too large for a filter, answered from the database.</param>
/// <param name="FalsePositiveRateEstimate">Mean false-positive rate the held filters' models estimate.</param>
/// <param name="FalsePositiveRateMeasured">False positives over negatives the verifier measured against the database since start (0 without samples).</param>
/// <param name="FalsePositiveSamples">Negatives the verifier measured (the measured rate's denominator); 0 when it is off.</param>
internal sealed record PoolStatistics(
    string Pool,
    int Users,
    long Bytes,
    long BudgetBytes,
    long Hits,
    long Misses,
    long Evictions,
    int RebuildsInFlight,
    int CappedUsers,
    double FalsePositiveRateEstimate,
    double FalsePositiveRateMeasured,
    long FalsePositiveSamples);
