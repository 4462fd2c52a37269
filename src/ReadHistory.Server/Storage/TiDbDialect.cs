using System.Text;

namespace ReadHistory.Server.Storage;

/// <summary>
/// TiDB: one table (TiDB splits it into regions itself), clustered primary key, and the isolation TiDB offers:
/// resource groups per workload (<c>/*+ RESOURCE_GROUP(rg) */</c>; point queries HIGH, scans LOW), HIGH_PRIORITY on
/// the point query, and on scan sessions a small <c>tidb_distsql_scan_concurrency</c> plus TiFlash allowed as a
/// read engine so a rebuild can leave TiKV to the point queries. <c>tidb_low_resolution_tso</c> is deliberately not
/// set: its snapshot may be ~2 s stale, and a rebuild that misses a row committed just before it started, whose change
/// event was ignored because the user was not cached yet, would be a false negative.
/// </summary>
internal sealed class TiDbDialect(string columnFamily = "rh_reads") : StorageDialect(StorageEngine.InnoDb, columnFamily)
{
    /// <summary>Resource group of point queries.</summary>
    public const string PointGroup = "rh_point";

    /// <summary>Resource group of rebuild scans and counts.</summary>
    public const string ScanGroup = "rh_scan";

    /// <summary>Resource group of ingest and forget.</summary>
    public const string IngestGroup = "rh_ingest";

    /// <inheritdoc />
    public override StorageDialectKind Kind => StorageDialectKind.TiDb;

    /// <inheritdoc />
    public override IReadOnlyList<string> ScanSessionSetup { get; } =
    [
        "SET SESSION tidb_isolation_read_engines = 'tikv,tiflash'",
        "SET SESSION tidb_distsql_scan_concurrency = 2",
    ];

    /// <inheritdoc />
    protected override string PointSelectHead => "SELECT /*+ RESOURCE_GROUP(" + PointGroup + ") */ HIGH_PRIORITY";

    /// <inheritdoc />
    protected override string ScanSelectHead => "SELECT /*+ RESOURCE_GROUP(" + ScanGroup + ") */";

    /// <inheritdoc />
    public override string CreateTable(string qualifiedTable) =>
        "CREATE TABLE IF NOT EXISTS " + qualifiedTable +
        " (user_id BIGINT UNSIGNED NOT NULL, content_type SMALLINT UNSIGNED NOT NULL, content_id BIGINT UNSIGNED NOT NULL, " +
        "read_at INT UNSIGNED NOT NULL COMMENT 'Unix seconds', PRIMARY KEY (user_id, content_type, content_id) CLUSTERED)";

    /// <summary>Resource groups (TiDB 7.1+); burstable so an idle cluster lends capacity, priorities order contention.</summary>
    public override IReadOnlyList<string> ServerSetup(string columnFamilyOptions) =>
    [
        "CREATE RESOURCE GROUP IF NOT EXISTS " + PointGroup + " RU_PER_SEC = 100000 PRIORITY = HIGH BURSTABLE",
        "CREATE RESOURCE GROUP IF NOT EXISTS " + IngestGroup + " RU_PER_SEC = 50000 PRIORITY = MEDIUM BURSTABLE",
        "CREATE RESOURCE GROUP IF NOT EXISTS " + ScanGroup + " RU_PER_SEC = 10000 PRIORITY = LOW BURSTABLE",
    ];

    /// <inheritdoc />
    public override void AppendUpsertHead(StringBuilder sql, string qualifiedTable) =>
        sql.Append("INSERT /*+ RESOURCE_GROUP(").Append(IngestGroup).Append(") */ INTO ").Append(qualifiedTable)
            .Append(" (user_id, content_type, content_id, read_at) VALUES ");

    /// <inheritdoc />
    public override string ForgetChunk(string qualifiedTable, ulong userId, int limit) =>
        "DELETE /*+ RESOURCE_GROUP(" + IngestGroup + ") */" + base.ForgetChunk(qualifiedTable, userId, limit)["DELETE".Length..];
}
