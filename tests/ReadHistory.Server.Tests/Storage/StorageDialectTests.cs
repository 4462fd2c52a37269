using ReadHistory.Server.Storage;
using Xunit;

namespace ReadHistory.Server.Tests.Storage;

public sealed class StorageDialectTests
{
    private const string Table = "`readhistory_0`.`reads_0`";
    private static readonly HistoryRow[] Rows = [new(1, 2, 3, 4), new(ulong.MaxValue, 65535, ulong.MaxValue - 1, uint.MaxValue)];

    [Fact]
    public void MyRocks_tables_live_in_their_own_column_family()
    {
        var sql = new MariaDbDialect(StorageEngine.RocksDb, "rh_reads").CreateTable(Table);

        Assert.Equal(
            "CREATE TABLE IF NOT EXISTS `readhistory_0`.`reads_0` (user_id BIGINT UNSIGNED NOT NULL, content_type SMALLINT UNSIGNED NOT NULL, " +
            "content_id BIGINT UNSIGNED NOT NULL, read_at INT UNSIGNED NOT NULL COMMENT 'Unix seconds', " +
            "PRIMARY KEY (user_id, content_type, content_id) COMMENT 'cfname=rh_reads') ENGINE=ROCKSDB",
            sql);
    }

    [Theory]
    [InlineData(nameof(StorageEngine.InnoDbCompressed), ") ENGINE=InnoDB ROW_FORMAT=COMPRESSED KEY_BLOCK_SIZE=8")]
    [InlineData(nameof(StorageEngine.InnoDb), ") ENGINE=InnoDB")]
    public void InnoDB_tables_end_with_their_row_format(string engine, string tail)
    {
        var sql = new MariaDbDialect(Enum.Parse<StorageEngine>(engine)).CreateTable(Table);

        Assert.EndsWith("PRIMARY KEY (user_id, content_type, content_id)" + tail, sql, StringComparison.Ordinal);
    }

    [Fact]
    public void MyRocks_compression_is_set_on_the_column_family()
    {
        var dialect = new MariaDbDialect(StorageEngine.RocksDb, "rh_reads");

        Assert.Equal(["SET GLOBAL rocksdb_update_cf_options = 'rh_reads={compression=kLZ4Compression}'"], dialect.ServerSetup("compression=kLZ4Compression"));
        Assert.Equal("--rocksdb-override-cf-options=rh_reads={compression=kLZ4Compression}", dialect.ServerArgument("compression=kLZ4Compression"));
        Assert.Empty(new MariaDbDialect(StorageEngine.InnoDb).ServerSetup("x"));
    }

    [Fact]
    public void The_MariaDB_upsert_keeps_the_latest_read_time()
    {
        var sql = new MariaDbDialect(StorageEngine.RocksDb).Upsert(Table, Rows);

        Assert.Equal(
            "INSERT INTO `readhistory_0`.`reads_0` (user_id, content_type, content_id, read_at) VALUES " +
            "(1,2,3,4),(18446744073709551615,65535,18446744073709551614,4294967295) " +
            "ON DUPLICATE KEY UPDATE read_at = GREATEST(read_at, VALUES(read_at))",
            sql);
    }

    [Fact]
    public void The_MariaDB_point_query_is_a_plain_IN_list()
    {
        var sql = new MariaDbDialect(StorageEngine.RocksDb).PointQuery(Table, 5, 1, [7, ulong.MaxValue]);

        Assert.Equal("SELECT content_id FROM `readhistory_0`.`reads_0` WHERE user_id = 5 AND content_type = 1 AND content_id IN (7,18446744073709551615)", sql);
    }

    [Fact]
    public void The_prepared_point_query_has_user_type_and_id_slots()
    {
        var dialect = new MariaDbDialect(StorageEngine.RocksDb);

        Assert.Equal("SELECT content_id FROM `readhistory_0`.`reads_0` WHERE user_id = ? AND content_type = ? AND content_id IN (?)", dialect.PreparedPointQuery(Table, 1));
        Assert.Equal("SELECT content_id FROM `readhistory_0`.`reads_0` WHERE user_id = ? AND content_type = ? AND content_id IN (?,?,?)", dialect.PreparedPointQuery(Table, 3));
        Assert.Equal(1000, dialect.PreparedPointQuery(Table, 1000).Count(c => c == '?') - 2);
        Assert.Throws<ArgumentOutOfRangeException>(() => dialect.PreparedPointQuery(Table, 0));
    }

    [Fact]
    public void MyRocks_scans_skip_the_block_cache_for_that_statement_only()
    {
        var dialect = new MariaDbDialect(StorageEngine.RocksDb);

        Assert.Equal(
            "SET STATEMENT rocksdb_skip_fill_cache = 1 FOR SELECT content_type, content_id, read_at FROM `readhistory_0`.`reads_0` " +
            "WHERE user_id = 5 ORDER BY user_id, content_type, content_id",
            dialect.Scan(Table, 5));
        Assert.Equal("SET STATEMENT rocksdb_skip_fill_cache = 1 FOR SELECT COUNT(*) FROM `readhistory_0`.`reads_0` WHERE user_id = 5", dialect.Count(Table, 5));
        Assert.Empty(dialect.ScanSessionSetup);
    }

    [Fact]
    public void InnoDB_scans_are_plain_selects()
    {
        Assert.StartsWith("SELECT content_type", new MariaDbDialect(StorageEngine.InnoDbCompressed).Scan(Table, 5), StringComparison.Ordinal);
    }

    [Fact]
    public void Forget_deletes_in_bounded_chunks()
    {
        Assert.Equal("DELETE FROM `readhistory_0`.`reads_0` WHERE user_id = 5 LIMIT 10000", new MariaDbDialect(StorageEngine.InnoDb).ForgetChunk(Table, 5, 10_000));
    }

    [Fact]
    public void TiDB_tables_have_a_clustered_primary_key_and_no_engine()
    {
        var sql = new TiDbDialect().CreateTable(Table);

        Assert.Equal(
            "CREATE TABLE IF NOT EXISTS `readhistory_0`.`reads_0` (user_id BIGINT UNSIGNED NOT NULL, content_type SMALLINT UNSIGNED NOT NULL, " +
            "content_id BIGINT UNSIGNED NOT NULL, read_at INT UNSIGNED NOT NULL COMMENT 'Unix seconds', " +
            "PRIMARY KEY (user_id, content_type, content_id) CLUSTERED)",
            sql);
    }

    [Fact]
    public void TiDB_statements_carry_resource_group_hints()
    {
        var dialect = new TiDbDialect();

        Assert.Equal(
            "SELECT /*+ RESOURCE_GROUP(rh_point) */ HIGH_PRIORITY content_id FROM `readhistory_0`.`reads_0` WHERE user_id = 5 AND content_type = 1 AND content_id IN (7)",
            dialect.PointQuery(Table, 5, 1, [7]));
        Assert.Equal(
            "SELECT /*+ RESOURCE_GROUP(rh_point) */ HIGH_PRIORITY content_id FROM `readhistory_0`.`reads_0` WHERE user_id = ? AND content_type = ? AND content_id IN (?,?)",
            dialect.PreparedPointQuery(Table, 2));
        Assert.Equal(
            "SELECT /*+ RESOURCE_GROUP(rh_scan) */ content_type, content_id, read_at FROM `readhistory_0`.`reads_0` WHERE user_id = 5 ORDER BY user_id, content_type, content_id",
            dialect.Scan(Table, 5));
        Assert.Equal("SELECT /*+ RESOURCE_GROUP(rh_scan) */ COUNT(*) FROM `readhistory_0`.`reads_0` WHERE user_id = 5", dialect.Count(Table, 5));
        Assert.Equal(
            "INSERT /*+ RESOURCE_GROUP(rh_ingest) */ INTO `readhistory_0`.`reads_0` (user_id, content_type, content_id, read_at) VALUES (1,2,3,4) " +
            "ON DUPLICATE KEY UPDATE read_at = GREATEST(read_at, VALUES(read_at))",
            dialect.Upsert(Table, Rows.AsSpan(0, 1)));
        Assert.Equal("DELETE /*+ RESOURCE_GROUP(rh_ingest) */ FROM `readhistory_0`.`reads_0` WHERE user_id = 5 LIMIT 100", dialect.ForgetChunk(Table, 5, 100));
    }

    [Fact]
    public void TiDB_scan_sessions_and_server_setup()
    {
        var dialect = new TiDbDialect();

        Assert.Equal(["SET SESSION tidb_isolation_read_engines = 'tikv,tiflash'", "SET SESSION tidb_distsql_scan_concurrency = 2"], dialect.ScanSessionSetup);
        Assert.Equal(
            [
                "CREATE RESOURCE GROUP IF NOT EXISTS rh_point RU_PER_SEC = 100000 PRIORITY = HIGH BURSTABLE",
                "CREATE RESOURCE GROUP IF NOT EXISTS rh_ingest RU_PER_SEC = 50000 PRIORITY = MEDIUM BURSTABLE",
                "CREATE RESOURCE GROUP IF NOT EXISTS rh_scan RU_PER_SEC = 10000 PRIORITY = LOW BURSTABLE",
            ],
            dialect.ServerSetup(string.Empty));
    }

    [Fact]
    public void The_dialect_refuses_an_unresolved_engine_or_kind()
    {
        Assert.Throws<ArgumentException>(() => new MariaDbDialect(StorageEngine.Auto));
        Assert.Throws<ArgumentException>(() => StorageDialect.Create(StorageDialectKind.Auto, StorageEngine.InnoDb));
        Assert.Throws<ArgumentException>(() => new MariaDbDialect(StorageEngine.RocksDb, "bad'cf"));
    }
}
