namespace ReadHistory.Server.Storage;

/// <summary>
/// MariaDB (10.11) with MyRocks or InnoDB. HIGH_PRIORITY / LOW_PRIORITY only reorder table-lock queues (MyISAM, Aria,
/// MEMORY); MyRocks and InnoDB lock rows and ignore them, so they are not sent. What the engines do honour: MyRocks'
/// <c>rocksdb_skip_fill_cache</c>, set for the scan statement only (<c>SET STATEMENT … FOR</c>, immune to the pool's
/// connection reset), keeps a 300 K-row rebuild from evicting the point queries' hot blocks from the block cache.
/// InnoDB's buffer pool already inserts scanned pages at its midpoint (innodb_old_blocks_time), which protects the
/// same way without a knob. Isolation beyond that comes from the separate connection pools.
/// </summary>
internal sealed class MariaDbDialect : StorageDialect
{
    /// <summary>Creates the dialect for tables of <paramref name="engine"/>.</summary>
    public MariaDbDialect(StorageEngine engine, string columnFamily = "rh_reads")
        : base(engine, columnFamily)
    {
        if (engine == StorageEngine.Auto)
        {
            throw new ArgumentException("the engine must be resolved before use", nameof(engine));
        }

        ScanSelectHead = engine == StorageEngine.RocksDb ? "SET STATEMENT rocksdb_skip_fill_cache = 1 FOR SELECT" : "SELECT";
    }

    /// <inheritdoc />
    public override StorageDialectKind Kind => StorageDialectKind.MariaDb;

    /// <inheritdoc />
    public override IReadOnlyList<string> ScanSessionSetup => [];

    /// <inheritdoc />
    protected override string PointSelectHead => "SELECT";

    /// <inheritdoc />
    protected override string ScanSelectHead { get; }

    /// <inheritdoc />
    public override string CreateTable(string qualifiedTable)
    {
        const string Columns =
            " (user_id BIGINT UNSIGNED NOT NULL, content_type SMALLINT UNSIGNED NOT NULL, content_id BIGINT UNSIGNED NOT NULL, " +
            "read_at INT UNSIGNED NOT NULL COMMENT 'Unix seconds', PRIMARY KEY (user_id, content_type, content_id)";
        return Engine switch
        {
            // The COMMENT on the key puts the table in its own column family, whose compression the server setup sets.
            StorageEngine.RocksDb => "CREATE TABLE IF NOT EXISTS " + qualifiedTable + Columns + " COMMENT 'cfname=" + ColumnFamily + "') ENGINE=ROCKSDB",
            StorageEngine.InnoDbCompressed => "CREATE TABLE IF NOT EXISTS " + qualifiedTable + Columns + ") ENGINE=InnoDB ROW_FORMAT=COMPRESSED KEY_BLOCK_SIZE=8",
            _ => "CREATE TABLE IF NOT EXISTS " + qualifiedTable + Columns + ") ENGINE=InnoDB",
        };
    }

    /// <summary>
    /// MyRocks reads column family options only from rocksdb_default_cf_options / rocksdb_override_cf_options at
    /// start (read-only variables); rocksdb_update_cf_options changes a live column family but is forgotten at
    /// restart, so this runs at migrate and again whenever a store starts.
    /// </summary>
    public override IReadOnlyList<string> ServerSetup(string columnFamilyOptions) =>
        Engine == StorageEngine.RocksDb
            ? ["SET GLOBAL rocksdb_update_cf_options = '" + ColumnFamily + "={" + columnFamilyOptions + "}'"]
            : [];

    /// <summary>The mariadbd argument that makes the column family options permanent (for a host that starts its own server).</summary>
    public string ServerArgument(string columnFamilyOptions) =>
        "--rocksdb-override-cf-options=" + ColumnFamily + "={" + columnFamilyOptions + "}";
}
