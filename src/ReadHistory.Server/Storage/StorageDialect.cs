using System.Globalization;
using System.Text;
using ReadHistory.Core.Routing;

namespace ReadHistory.Server.Storage;

/// <summary>
/// The SQL text of one server family. Statements splice only integers and validated identifiers, never strings from
/// callers, so the text protocol with literals (one round trip, no parameter objects) is safe and is what ingest
/// uses; a multi-row INSERT with 8,000 parameters would cost more to bind than to send. The point query is the
/// exception: it runs as a prepared statement (<see cref="PreparedPointQuery"/>), parsed once per session.
/// </summary>
internal abstract class StorageDialect
{
    /// <summary>The upsert's tail: a repeated read keeps the latest read_at, so replays are harmless.</summary>
    protected const string UpsertTail = " ON DUPLICATE KEY UPDATE read_at = GREATEST(read_at, VALUES(read_at))";

    /// <summary>Creates the dialect for a server family and an engine.</summary>
    protected StorageDialect(StorageEngine engine, string columnFamily)
    {
        if (!ShardNames.IsSafeIdentifier(columnFamily, 64))
        {
            throw new ArgumentException($"column family '{columnFamily}' must be 1 .. 64 of [A-Za-z0-9_]", nameof(columnFamily));
        }

        Engine = engine;
        ColumnFamily = columnFamily;
    }

    /// <summary>The server family.</summary>
    public abstract StorageDialectKind Kind { get; }

    /// <summary>The engine of the tables (never Auto).</summary>
    public StorageEngine Engine { get; }

    /// <summary>The MyRocks column family (used only with <see cref="StorageEngine.RocksDb"/>).</summary>
    public string ColumnFamily { get; }

    /// <summary>Creates the dialect; <paramref name="engine"/> must already be resolved (not Auto).</summary>
    public static StorageDialect Create(StorageDialectKind kind, StorageEngine engine, string columnFamily = "rh_reads") => kind switch
    {
        StorageDialectKind.MariaDb => new MariaDbDialect(engine, columnFamily),
        StorageDialectKind.TiDb => new TiDbDialect(columnFamily),
        _ => throw new ArgumentException("the dialect must be resolved (MariaDb or TiDb) before use", nameof(kind)),
    };

    /// <summary>CREATE DATABASE, idempotent.</summary>
    public static string CreateDatabase(string database) =>
        $"CREATE DATABASE IF NOT EXISTS `{database}` CHARACTER SET utf8mb4";

    /// <summary>CREATE TABLE for one history table, idempotent.</summary>
    public abstract string CreateTable(string qualifiedTable);

    /// <summary>The meta table holding one row: the schema version, engine and shard shape.</summary>
    public static string CreateMetaTable(string metaDatabase) =>
        $"CREATE TABLE IF NOT EXISTS `{metaDatabase}`.`schema_version` (" +
        "id TINYINT UNSIGNED NOT NULL PRIMARY KEY, version INT NOT NULL, engine VARCHAR(32) NOT NULL, " +
        "shard_databases INT NOT NULL, shard_tables INT NOT NULL, " +
        "updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP) ENGINE=InnoDB";

    /// <summary>Statements run once per server at migrate and at start (column family options, resource groups).</summary>
    public abstract IReadOnlyList<string> ServerSetup(string columnFamilyOptions);

    /// <summary>Appends the INSERT head of a multi-row upsert.</summary>
    public virtual void AppendUpsertHead(StringBuilder sql, string qualifiedTable) =>
        sql.Append("INSERT INTO ").Append(qualifiedTable).Append(" (user_id, content_type, content_id, read_at) VALUES ");

    /// <summary>Appends one row tuple, preceded by a comma unless it is the first.</summary>
    public static void AppendUpsertRow(StringBuilder sql, in HistoryRow row, bool first) =>
        sql.Append(first ? "(" : ",(")
            .Append(row.UserId.ToString(CultureInfo.InvariantCulture)).Append(',')
            .Append(row.ContentType.ToString(CultureInfo.InvariantCulture)).Append(',')
            .Append(row.ContentId.ToString(CultureInfo.InvariantCulture)).Append(',')
            .Append(row.ReadAt.ToString(CultureInfo.InvariantCulture)).Append(')');

    /// <summary>Appends the ON DUPLICATE KEY tail.</summary>
    public static void AppendUpsertTail(StringBuilder sql) => sql.Append(UpsertTail);

    /// <summary>A whole multi-row upsert (tests and tools; the writer appends into a reused builder).</summary>
    public string Upsert(string qualifiedTable, ReadOnlySpan<HistoryRow> rows)
    {
        var sql = new StringBuilder(128 + (rows.Length * 48));
        AppendUpsertHead(sql, qualifiedTable);
        for (var i = 0; i < rows.Length; i++)
        {
            AppendUpsertRow(sql, rows[i], i == 0);
        }

        AppendUpsertTail(sql);
        return sql.ToString();
    }

    /// <summary>Appends a point query with the ids as literals (the text-protocol variant, kept for comparison).</summary>
    public void AppendPointQuery(StringBuilder sql, string qualifiedTable, ulong userId, ushort contentType, ReadOnlySpan<ulong> ids)
    {
        if (ids.IsEmpty)
        {
            throw new ArgumentException("a point query needs at least one id", nameof(ids));
        }

        sql.Append(PointSelectHead).Append(" content_id FROM ").Append(qualifiedTable)
            .Append(" WHERE user_id = ").Append(userId.ToString(CultureInfo.InvariantCulture))
            .Append(" AND content_type = ").Append(contentType.ToString(CultureInfo.InvariantCulture))
            .Append(" AND content_id IN (");
        for (var i = 0; i < ids.Length; i++)
        {
            if (i > 0)
            {
                sql.Append(',');
            }

            sql.Append(ids[i].ToString(CultureInfo.InvariantCulture));
        }

        sql.Append(')');
    }

    /// <summary>A whole point query.</summary>
    public string PointQuery(string qualifiedTable, ulong userId, ushort contentType, ReadOnlySpan<ulong> ids)
    {
        var sql = new StringBuilder(160 + (ids.Length * 21));
        AppendPointQuery(sql, qualifiedTable, userId, contentType, ids);
        return sql.ToString();
    }

    /// <summary>
    /// The prepared point query with <paramref name="placeholders"/> id slots: parameters are user id, content type,
    /// then the ids (unused slots repeat an id). Its text depends only on the table and the slot count, so a session
    /// prepares it once and reuses it for every user of that table.
    /// </summary>
    public string PreparedPointQuery(string qualifiedTable, int placeholders)
    {
        if (placeholders < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(placeholders), placeholders, "a prepared point query needs at least one id placeholder");
        }

        var sql = new StringBuilder(160 + (placeholders * 2));
        sql.Append(PointSelectHead).Append(" content_id FROM ").Append(qualifiedTable)
            .Append(" WHERE user_id = ? AND content_type = ? AND content_id IN (?");
        for (var i = 1; i < placeholders; i++)
        {
            sql.Append(",?");
        }

        return sql.Append(')').ToString();
    }

    /// <summary>All rows of a user, in primary-key order.</summary>
    public string Scan(string qualifiedTable, ulong userId) =>
        ScanSelectHead + " content_type, content_id, read_at FROM " + qualifiedTable +
        " WHERE user_id = " + userId.ToString(CultureInfo.InvariantCulture) + " ORDER BY user_id, content_type, content_id";

    /// <summary>Number of rows of a user (run on the scan pool before a scan, to size the filter).</summary>
    public string Count(string qualifiedTable, ulong userId) =>
        ScanSelectHead + " COUNT(*) FROM " + qualifiedTable + " WHERE user_id = " + userId.ToString(CultureInfo.InvariantCulture);

    /// <summary>Deletes up to <paramref name="limit"/> rows of a user (repeated until fewer are deleted, so no transaction grows huge).</summary>
    public virtual string ForgetChunk(string qualifiedTable, ulong userId, int limit) =>
        "DELETE FROM " + qualifiedTable + " WHERE user_id = " + userId.ToString(CultureInfo.InvariantCulture) +
        " LIMIT " + limit.ToString(CultureInfo.InvariantCulture);

    /// <summary>Statements run on a scan connection after it is opened (session priorities), possibly none.</summary>
    public abstract IReadOnlyList<string> ScanSessionSetup { get; }

    /// <summary>"SELECT" plus hints for the point query.</summary>
    protected abstract string PointSelectHead { get; }

    /// <summary>"SELECT" plus hints (or a statement-scoped SET) for scans and counts.</summary>
    protected abstract string ScanSelectHead { get; }
}
