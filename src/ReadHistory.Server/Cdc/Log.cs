using Microsoft.Extensions.Logging;
using ReadHistory.MySql.Replication;

namespace ReadHistory.Server.Cdc;

/// <summary>CDC log messages (event ids: see <see cref="EventIds"/>).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = EventIds.CdcBecameLeader, Level = LogLevel.Information, Message = "cdc: took the publisher lease (token {Token})")]
    public static partial void BecameLeader(ILogger logger, string token);

    [LoggerMessage(EventId = EventIds.CdcLeaseLost, Level = LogLevel.Warning, Message = "cdc: lost the publisher lease (token {Token}); back to standby")]
    public static partial void LeaseLost(ILogger logger, string token);

    [LoggerMessage(EventId = EventIds.CdcPublishing, Level = LogLevel.Information, Message = "cdc: publishing epoch {Epoch:x16} from {Position}")]
    public static partial void Publishing(ILogger logger, ulong epoch, MariaDbGtidPosition position);

    [LoggerMessage(EventId = EventIds.CdcLeaseReleased, Level = LogLevel.Information, Message = "cdc: gave the publisher lease up")]
    public static partial void LeaseReleased(ILogger logger);

    [LoggerMessage(EventId = EventIds.CdcNewEpoch, Level = LogLevel.Warning, Message = "cdc: new epoch {Epoch:x16} from {Position}: {Reason}; replicas will drop their filters")]
    public static partial void NewEpoch(ILogger logger, ulong epoch, MariaDbGtidPosition position, string reason);

    [LoggerMessage(EventId = EventIds.CdcRedisRetry, Level = LogLevel.Warning, Message = "cdc: Redis call failed ({Message}); retrying in {DelayMs} ms")]
    public static partial void RedisRetry(ILogger logger, string message, double delayMs);

    [LoggerMessage(EventId = EventIds.CdcPublisherFailed, Level = LogLevel.Error, Message = "cdc: publishing failed; standing down and retrying")]
    public static partial void PublisherFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = EventIds.CdcStreamGap, Level = LogLevel.Warning, Message = "stream {Stream}: gap ({Reason}); epoch {Epoch:x16}")]
    public static partial void StreamGap(ILogger logger, string stream, string reason, ulong epoch);

    [LoggerMessage(EventId = EventIds.CdcCorruptEntry, Level = LogLevel.Error, Message = "stream {Stream}: entry {EntryId} is not a valid change batch; skipped")]
    public static partial void CorruptEntry(ILogger logger, Exception exception, string stream, string entryId);
}
