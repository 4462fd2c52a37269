using Microsoft.Extensions.Logging;

namespace ReadHistory.Server.Cache;

/// <summary>Cache node log messages (event ids: see <see cref="EventIds"/>).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = EventIds.CacheRebuildRetrying, Level = LogLevel.Warning, Message = "cache {Pool}: rebuild of a user failed (attempt {Attempt} of {MaxAttempts}), retrying in {DelayMs} ms")]
    public static partial void RebuildRetrying(ILogger logger, Exception exception, string pool, int attempt, int maxAttempts, double delayMs);

    [LoggerMessage(EventId = EventIds.CacheRebuildGaveUp, Level = LogLevel.Error, Message = "cache {Pool}: rebuild of a user failed {Attempts} times; the user stays on point queries until its next miss")]
    public static partial void RebuildGaveUp(ILogger logger, Exception exception, string pool, int attempts);

    [LoggerMessage(EventId = EventIds.CacheRebuildBufferFull, Level = LogLevel.Warning, Message = "cache {Pool}: a rebuild buffered {Changes} changes and was abandoned")]
    public static partial void RebuildBufferFull(ILogger logger, string pool, int changes);

    [LoggerMessage(EventId = EventIds.CacheUserCapped, Level = LogLevel.Information, Message = "cache {Pool}: a user of {Rows} rows exceeds the filter cap of {MaxBytes} bytes; answered from the database")]
    public static partial void UserCapped(ILogger logger, string pool, long rows, long maxBytes);

    [LoggerMessage(EventId = EventIds.CacheVerifierQueryFailed, Level = LogLevel.Warning, Message = "cache {Pool}: a false-positive verifier query failed; that sample is skipped (logged at most every 10 s)")]
    public static partial void VerifierQueryFailed(ILogger logger, Exception exception, string pool);

    [LoggerMessage(EventId = EventIds.CacheSnapshotTierFailed, Level = LogLevel.Warning, Message = "cache {Pool}: T2 {Operation} failed; the database path answers")]
    public static partial void SnapshotTierFailed(ILogger logger, Exception exception, string pool, string operation);

    [LoggerMessage(EventId = EventIds.CacheSnapshotStale, Level = LogLevel.Debug, Message = "cache {Pool}: a T2 snapshot was not usable ({Reason}) and is deleted")]
    public static partial void SnapshotStale(ILogger logger, string pool, string reason);
}
