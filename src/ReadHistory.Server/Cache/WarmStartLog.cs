using Microsoft.Extensions.Logging;

namespace ReadHistory.Server.Cache;

/// <summary>Warm-start log messages (event ids: see <see cref="EventIds"/>).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = EventIds.CacheWarmStartFinished, Level = LogLevel.Information, Message = "cache {Pool}: warm start from {Peer} {Outcome}: {Users} users, {Bytes} bytes in {Milliseconds} ms")]
    public static partial void WarmStartFinished(ILogger logger, string pool, Uri peer, WarmStartOutcome outcome, long users, long bytes, double milliseconds);

    [LoggerMessage(EventId = EventIds.CacheWarmStartFailed, Level = LogLevel.Warning, Message = "cache {Pool}: warm start from {Peer} failed after {Milliseconds} ms; the node starts cold: {Reason}")]
    public static partial void WarmStartFailed(ILogger logger, Exception exception, string pool, Uri peer, double milliseconds, string reason);

    [LoggerMessage(EventId = EventIds.CacheWarmStartLayout, Level = LogLevel.Debug, Message = "cache {Pool}: warm start from {Peer} announces {Users} users in {PoolBytes} bytes; its index layout is {Adopted}")]
    public static partial void WarmStartLayout(ILogger logger, string pool, Uri peer, ulong users, ulong poolBytes, string adopted);
}
