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
        };
    }
}
