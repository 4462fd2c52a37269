using Microsoft.Extensions.Logging;

namespace ReadHistory.Server.Storage;

/// <summary>Storage log messages (event ids: see <see cref="EventIds"/>).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = EventIds.StorageMigrateStarting, Level = LogLevel.Information, Message = "schema: {Dialect} server {Version}, engine {Engine}, {Databases} × {Tables} tables")]
    public static partial void MigrateStarting(ILogger logger, StorageDialectKind dialect, string version, StorageEngine engine, int databases, int tables);

    [LoggerMessage(EventId = EventIds.StorageMigrateDone, Level = LogLevel.Information, Message = "schema: version {From} → {To}, {Created} tables created")]
    public static partial void MigrateDone(ILogger logger, int from, int to, int created);

    [LoggerMessage(EventId = EventIds.StorageServerSetupFailed, Level = LogLevel.Warning, Message = "schema: server setup statement failed (compression or resource groups stay at server defaults): {Statement}")]
    public static partial void ServerSetupFailed(ILogger logger, Exception exception, string statement);

    [LoggerMessage(EventId = EventIds.StorageFlushRetrying, Level = LogLevel.Warning, Message = "ingest: flush of {Rows} rows to shard {Shard} failed (attempt {Attempt}), retrying in {DelayMs} ms")]
    public static partial void FlushRetrying(ILogger logger, Exception? exception, int rows, int shard, int attempt, double delayMs);

    [LoggerMessage(EventId = EventIds.StorageFlushFailed, Level = LogLevel.Error, Message = "ingest: flush of {Rows} rows ({Writes} writes) to shard {Shard} failed for good")]
    public static partial void FlushFailed(ILogger logger, Exception exception, int rows, int writes, int shard);

    [LoggerMessage(EventId = EventIds.StorageQueueFull, Level = LogLevel.Warning, Message = "ingest: queue full ({Queued} rows queued, limit {Limit}); refusing a write of {Rows} rows")]
    public static partial void QueueFull(ILogger logger, long queued, int limit, int rows);

    [LoggerMessage(EventId = EventIds.StorageQueueDelayed, Level = LogLevel.Warning, Message = "ingest: the oldest write queued for shard {Shard} has waited {WaitedMs} ms (limit {LimitMs} ms, ReadHistory:Database:GroupCommitMaxQueueDelay); refusing its writes ({Refused} refused in the last second)")]
    public static partial void QueueDelayed(ILogger logger, int shard, long waitedMs, long limitMs, long refused);

    [LoggerMessage(EventId = EventIds.StorageForgot, Level = LogLevel.Information, Message = "forgot user: {Rows} rows deleted from shard {Shard}")]
    public static partial void Forgot(ILogger logger, long rows, int shard);

    [LoggerMessage(EventId = EventIds.StorageForgetRetrying, Level = LogLevel.Warning, Message = "forget: a delete failed (attempt {Attempt}), retrying in {DelayMs} ms")]
    public static partial void ForgetRetrying(ILogger logger, Exception? exception, int attempt, double delayMs);

    [LoggerMessage(EventId = EventIds.StoragePreparedStatementsExhausted, Level = LogLevel.Warning, Message = "point queries: the server refused another prepared statement ({Message}); point queries go as text from now on")]
    public static partial void PreparedStatementsExhausted(ILogger logger, string message);

    [LoggerMessage(EventId = EventIds.StorageDatabaseOpened, Level = LogLevel.Information, Message = "database open ({Dialect})")]
    public static partial void DatabaseOpened(ILogger logger, StorageDialectKind dialect);

    [LoggerMessage(EventId = EventIds.StorageDatabaseUnreachable, Level = LogLevel.Warning, Message = "database not reachable; next try in {DelaySeconds} s")]
    public static partial void DatabaseUnreachable(ILogger logger, double delaySeconds, Exception exception);
}
