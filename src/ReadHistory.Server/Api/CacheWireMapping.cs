using ReadHistory.Api.Internal.V1;
using ReadHistory.Api.V1;
using ReadHistory.Server.Cache;

namespace ReadHistory.Server.Api;

/// <summary>Maps the cache's domain answers to the wire's messages: the one place where Cache's types meet the protos.</summary>
internal static class CacheWireMapping
{
    /// <summary>The wire's AnswerSource for where a cache answer came from.</summary>
    public static AnswerSource ToWire(this CheckSource source) => source switch
    {
        CheckSource.Memory => AnswerSource.Memory,
        CheckSource.MemoryStale => AnswerSource.MemoryStale,
        CheckSource.Database => AnswerSource.Database,
        CheckSource.Passthrough => AnswerSource.Passthrough,
        CheckSource.Snapshot => AnswerSource.Snapshot,
        _ => throw new ArgumentOutOfRangeException(nameof(source), source, "no wire value for this answer source"),
    };

    /// <summary>The internal Stats call's PoolStats for a pool's figures (a negative byte count, never expected, as 0).</summary>
    public static PoolStats ToWire(this PoolStatistics stats)
    {
        ArgumentNullException.ThrowIfNull(stats);
        return new PoolStats
        {
            Pool = stats.Pool,
            Users = (ulong)stats.Users,
            Bytes = (ulong)Math.Max(0, stats.Bytes),
            BudgetBytes = (ulong)stats.BudgetBytes,
            Hits = (ulong)stats.Hits,
            Misses = (ulong)stats.Misses,
            Evictions = (ulong)stats.Evictions,
            RebuildsInFlight = (uint)stats.RebuildsInFlight,
            CappedUsers = (ulong)stats.CappedUsers,
            FalsePositiveRateEstimate = stats.FalsePositiveRateEstimate,
            FalsePositiveRateMeasured = stats.FalsePositiveRateMeasured,
            FalsePositiveSamples = (ulong)stats.FalsePositiveSamples,
        };
    }

    /// <summary>The internal Explain call's answer for an explanation.</summary>
    public static ExplainResponse ToWire(this Explanation explanation)
    {
        ArgumentNullException.ThrowIfNull(explanation);
        return new ExplainResponse
        {
            Pool = explanation.Pool,
            Held = explanation.Held,
            Capped = explanation.Capped,
            Rebuilding = explanation.Rebuilding,
            FilterRead = explanation.FilterRead,
            AnsweringLayer = explanation.AnsweringLayer,
            DatabaseRead = explanation.DatabaseRead,
            Rows = (ulong)Math.Max(0, explanation.Rows),
            Layers = (uint)explanation.Layers,
            Items = (ulong)Math.Max(0, explanation.Items),
            Capacity = (ulong)Math.Max(0, explanation.Capacity),
            BitBytes = (ulong)Math.Max(0, explanation.BitBytes),
            MemoryBytes = (ulong)Math.Max(0, explanation.MemoryBytes),
            FalsePositiveRateEstimate = explanation.EstimatedRate,
            PoolFalsePositiveRateMeasured = explanation.MeasuredPoolRate,
            PoolFalsePositiveSamples = (ulong)Math.Max(0, explanation.MeasuredPoolSamples),
        };
    }
}
