using ReadHistory.Core.Routing;

namespace ReadHistory.Server.Storage;

/// <summary>
/// Where read history is stored, under ReadHistory:Database. Defaults live in appsettings.json only. To add a setting:
/// a property here, its bound in <see cref="Validate"/>, its default with a comment in appsettings.json, and a row in
/// docs/configuration.md.
/// </summary>
internal sealed class DatabaseOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "ReadHistory:Database";

    /// <summary>Connection string (MySqlConnector keys) to the server holding the history databases.</summary>
    public string ConnectionString { get; set; } = string.Empty;

    /// <summary>Number of history databases (D); 1 on TiDB.</summary>
    public int Databases { get; set; }

    /// <summary>Number of history tables per database (T); 1 on TiDB.</summary>
    public int TablesPerDatabase { get; set; }

    /// <summary>Prefix of the history databases (<c>{prefix}_{d}</c>) and of the meta database (<c>{prefix}_meta</c>).</summary>
    public string DatabasePrefix { get; set; } = string.Empty;

    /// <summary>SQL dialect: Auto (TiDB when VERSION() says so), MariaDb or TiDb.</summary>
    public StorageDialectKind Dialect { get; set; }

    /// <summary>Engine for new tables: Auto (MyRocks when present, compressed InnoDB otherwise), RocksDb, InnoDbCompressed, InnoDb.</summary>
    public StorageEngine Engine { get; set; }

    /// <summary>MyRocks column family of the history tables (set per table with COMMENT 'cfname=...').</summary>
    public string RocksDbColumnFamily { get; set; } = string.Empty;

    /// <summary>Options of that column family, applied with SET GLOBAL rocksdb_update_cf_options at migrate and at start (they do not survive a server restart).</summary>
    public string RocksDbColumnFamilyOptions { get; set; } = string.Empty;

    /// <summary>Largest connection count of the point-query pool.</summary>
    public int PointPoolSize { get; set; }

    /// <summary>Largest connection count of the rebuild-scan pool (also bounds concurrent scans).</summary>
    public int ScanPoolSize { get; set; }

    /// <summary>Largest connection count of the ingest pool.</summary>
    public int IngestPoolSize { get; set; }

    /// <summary>
    /// Content ids per IN list of a point query; longer requests are split into several statements. Prepared statements
    /// cap it at 512 (HistoryStore.MaxPreparedSlots: MariaDB turns IN lists of 1,000 or more into a slower subquery), so
    /// the default 1000 runs as 512-id statements.
    /// </summary>
    public int PointQueryChunk { get; set; }

    /// <summary>A shard's queued rows are flushed once they reach this many.</summary>
    public int GroupCommitMaxRows { get; set; }

    /// <summary>... or once the oldest has waited this long.</summary>
    public TimeSpan GroupCommitMaxDelay { get; set; }

    /// <summary>Flushes running at once per shard.</summary>
    public int GroupCommitConcurrencyPerShard { get; set; }

    /// <summary>Rows queued or in flight, all shards together, before writers are refused (RESOURCE_EXHAUSTED).</summary>
    public int GroupCommitMaxQueuedRows { get; set; }

    /// <summary>
    /// A write is refused (RESOURCE_EXHAUSTED) while the oldest write queued for its shard has waited longer than this
    /// for a flush to take it: the queue holds what the database commits in this long, not the seconds of work
    /// <see cref="GroupCommitMaxQueuedRows"/> allows, so past the database's rate writes are refused at once instead
    /// of timing out in the queue. Zero: bounded by rows only.
    /// </summary>
    public TimeSpan GroupCommitMaxQueueDelay { get; set; }

    /// <summary>Retries of a flush, or of a forget, after a transient error (deadlock, lock wait, lost connection).</summary>
    public int GroupCommitMaxRetries { get; set; }

    /// <summary>First retry delay; later ones back off exponentially with jitter.</summary>
    public TimeSpan GroupCommitRetryDelay { get; set; }

    /// <summary>Adds a problem per bad key.</summary>
    public void Validate(List<string> problems)
    {
        if (string.IsNullOrWhiteSpace(ConnectionString))
        {
            problems.Add($"{Section}:ConnectionString: empty");
        }

        if (Databases is < 1 or > 1024)
        {
            problems.Add($"{Section}:Databases: {Databases} is outside 1 .. 1024");
        }

        if (TablesPerDatabase is < 1 or > 1024)
        {
            problems.Add($"{Section}:TablesPerDatabase: {TablesPerDatabase} is outside 1 .. 1024");
        }

        if (Dialect == StorageDialectKind.TiDb && (Databases != 1 || TablesPerDatabase != 1))
        {
            problems.Add($"{Section}:Databases / TablesPerDatabase: TiDB shards by itself, both must be 1");
        }

        if (!ShardNames.IsSafeIdentifier(DatabasePrefix, 40))
        {
            problems.Add($"{Section}:DatabasePrefix: '{DatabasePrefix}' must be 1 .. 40 of [A-Za-z0-9_]");
        }

        if (!ShardNames.IsSafeIdentifier(RocksDbColumnFamily, 64))
        {
            problems.Add($"{Section}:RocksDbColumnFamily: '{RocksDbColumnFamily}' must be 1 .. 64 of [A-Za-z0-9_]");
        }

        if (RocksDbColumnFamilyOptions.Contains('\'', StringComparison.Ordinal) || RocksDbColumnFamilyOptions.Contains('\\', StringComparison.Ordinal))
        {
            problems.Add($"{Section}:RocksDbColumnFamilyOptions: quotes and backslashes are not allowed");
        }

        CheckRange(problems, "PointPoolSize", PointPoolSize, 1, 1000);
        CheckRange(problems, "ScanPoolSize", ScanPoolSize, 1, 1000);
        CheckRange(problems, "IngestPoolSize", IngestPoolSize, 1, 1000);
        CheckRange(problems, "PointQueryChunk", PointQueryChunk, 1, 10_000);
        CheckRange(problems, "GroupCommitMaxRows", GroupCommitMaxRows, 1, 100_000);
        CheckRange(problems, "GroupCommitConcurrencyPerShard", GroupCommitConcurrencyPerShard, 1, 64);
        CheckRange(problems, "GroupCommitMaxQueuedRows", GroupCommitMaxQueuedRows, 1, 100_000_000);
        CheckRange(problems, "GroupCommitMaxRetries", GroupCommitMaxRetries, 0, 100);
        if (GroupCommitMaxDelay < TimeSpan.Zero || GroupCommitMaxDelay > TimeSpan.FromSeconds(1))
        {
            problems.Add($"{Section}:GroupCommitMaxDelay: {GroupCommitMaxDelay} is outside 0 .. 1 s");
        }

        if (GroupCommitMaxQueueDelay < TimeSpan.Zero || GroupCommitMaxQueueDelay > TimeSpan.FromMinutes(1))
        {
            problems.Add($"{Section}:GroupCommitMaxQueueDelay: {GroupCommitMaxQueueDelay} is outside 0 .. 1 min (0 = bounded by rows only)");
        }

        if (GroupCommitRetryDelay < TimeSpan.Zero || GroupCommitRetryDelay > TimeSpan.FromSeconds(10))
        {
            problems.Add($"{Section}:GroupCommitRetryDelay: {GroupCommitRetryDelay} is outside 0 .. 10 s");
        }
    }

    private static void CheckRange(List<string> problems, string key, int value, int min, int max)
    {
        if (value < min || value > max)
        {
            problems.Add($"{Section}:{key}: {value} is outside {min} .. {max}");
        }
    }
}
