using Microsoft.Extensions.Logging;

namespace ReadHistory.Server.Storage;

/// <summary>Storage log messages; event ids 4000 .. 4099 (4000 migrate, 4020 ingest, 4040 queries).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 4000, Level = LogLevel.Information, Message = "schema: {Dialect} server {Version}, engine {Engine}, {Databases} × {Tables} tables")]
    public static partial void MigrateStarting(ILogger logger, StorageDialectKind dialect, string version, StorageEngine engine, int databases, int tables);

    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "schema: version {From} → {To}, {Created} tables created")]
    public static partial void MigrateDone(ILogger logger, int from, int to, int created);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "schema: server setup statement failed (compression or resource groups stay at server defaults): {Statement}")]
    public static partial void ServerSetupFailed(ILogger logger, Exception exception, string statement);

    [LoggerMessage(EventId = 4020, Level = LogLevel.Warning, Message = "ingest: flush of {Rows} rows to shard {Shard} failed (attempt {Attempt}), retrying in {DelayMs} ms")]
    public static partial void FlushRetrying(ILogger logger, Exception? exception, int rows, int shard, int attempt, double delayMs);

    [LoggerMessage(EventId = 4021, Level = LogLevel.Error, Message = "ingest: flush of {Rows} rows ({Writes} writes) to shard {Shard} failed for good")]
    public static partial void FlushFailed(ILogger logger, Exception exception, int rows, int writes, int shard);

    [LoggerMessage(EventId = 4022, Level = LogLevel.Warning, Message = "ingest: queue full ({Queued} rows queued, limit {Limit}); refusing a write of {Rows} rows")]
    public static partial void QueueFull(ILogger logger, long queued, int limit, int rows);

    [LoggerMessage(EventId = 4040, Level = LogLevel.Information, Message = "forgot user: {Rows} rows deleted from shard {Shard}")]
    public static partial void Forgot(ILogger logger, long rows, int shard);

    [LoggerMessage(EventId = 4041, Level = LogLevel.Warning, Message = "point queries: the server refused another prepared statement ({Message}); point queries go as text from now on")]
    public static partial void PreparedStatementsExhausted(ILogger logger, string message);
}
