using System.Text;
using ReadHistory.MySql.Replication.Events;
using ReadHistory.MySql.Replication.Rows;
using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.MySql.Replication.Tests;

/// <summary>Rows written through the mariadb client, read back from the real binlog file and compared value by value.</summary>
[Collection(MariaDbFixture.Collection)]
public sealed class RowDecodingTests(MariaDbFixture fixture)
{
    private const string AllTypesTable = """
        CREATE TABLE all_types (
          id INT NOT NULL PRIMARY KEY,
          t TINYINT, tu TINYINT UNSIGNED, s SMALLINT, su SMALLINT UNSIGNED, m MEDIUMINT, mu MEDIUMINT UNSIGNED,
          i INT, iu INT UNSIGNED, b BIGINT, bu BIGINT UNSIGNED,
          d DECIMAL(10,2), d2 DECIMAL(30,10), d3 DECIMAL(65,30), d4 DECIMAL(5,0), f FLOAT, db DOUBLE,
          vc VARCHAR(20), vcl VARCHAR(300), c CHAR(10), cl CHAR(255), vb VARBINARY(16), bn BINARY(4), l1 CHAR(5) CHARACTER SET latin1,
          tx TEXT, tt TINYTEXT, mt MEDIUMTEXT, bl BLOB, lb LONGBLOB,
          dt DATE, dtm DATETIME, dtm3 DATETIME(3), dtm6 DATETIME(6), ts TIMESTAMP(2) NULL, ts0 TIMESTAMP NULL,
          tm TIME, tm1 TIME(1), tm4 TIME(4), tm6 TIME(6), y YEAR,
          e ENUM('a','b','c'), st SET('x','y','z'), bt BIT(10)
        ) ENGINE=InnoDB;
        """;

    private static readonly string LongText = new('x', 300);

    private static readonly object?[] Row1 =
    [
        1, (sbyte)-128, (byte)255, (short)-32768, (ushort)65535, -8388608, 16777215u,
        int.MinValue, uint.MaxValue, long.MinValue, ulong.MaxValue,
        -12345678.91m, "12345678901234567890.0123456789", "-12345678901234567890123456789012345.123456789012345678901234567890", -99999m, 1.5f, -2.25e100,
        "héllo", LongText, "abc", new string('ü', 255), new byte[] { 0, 0xFF, 0x10 }, new byte[] { 1, 2, 3, 4 }, "äöü",
        "text ✓", "tiny", "medium", new byte[] { 0xDE, 0xAD, 0xBE, 0xEF }, new byte[] { 0, 1, 2 },
        new DateTime(2024, 2, 29), new DateTime(2024, 12, 31, 23, 59, 59), new DateTime(2025, 1, 2, 3, 4, 5, 678),
        new DateTime(1999, 12, 31, 23, 59, 59).AddTicks(9_999_990), new DateTime(2024, 6, 1, 12, 34, 56, 780, DateTimeKind.Utc),
        new DateTime(2038, 1, 19, 3, 14, 7, DateTimeKind.Utc),
        -new TimeSpan(838, 59, 59), -(new TimeSpan(10, 0, 0) + TimeSpan.FromMilliseconds(500)),
        -(new TimeSpan(1, 2, 3) + TimeSpan.FromTicks(4_000)), -(new TimeSpan(12, 34, 56) + TimeSpan.FromTicks(1_234_560)), 2155,
        3, 5UL, 682UL,
    ];

    private static readonly object?[] Row2 =
    [
        2, (sbyte)127, (byte)0, (short)32767, (ushort)0, 8388607, 0u,
        int.MaxValue, 0u, long.MaxValue, 0UL,
        0.00m, -0.0000000001m, "0.000000000000000000000000000000", 0m, -0.25f, 0.0,
        string.Empty, string.Empty, string.Empty, string.Empty, Array.Empty<byte>(), new byte[] { 0, 0, 0, 0 }, string.Empty,
        string.Empty, string.Empty, string.Empty, Array.Empty<byte>(), Array.Empty<byte>(),
        new DateTime(1000, 1, 1), new DateTime(1000, 1, 1), new DateTime(2020, 1, 1, 0, 0, 0, 1),
        new DateTime(2020, 1, 1).AddTicks(10), new DateTime(1970, 1, 1, 0, 0, 1, DateTimeKind.Utc), new DateTime(1970, 1, 1, 0, 0, 1, DateTimeKind.Utc),
        TimeSpan.Zero, TimeSpan.Zero, new TimeSpan(838, 59, 59), TimeSpan.FromTicks(10), 1901,
        1, 0UL, 0UL,
    ];

    private static readonly object?[] Row3 = [3, .. Enumerable.Repeat<object?>(null, Row1.Length - 1)];

    private const string InsertRows = """
        SET time_zone = '+00:00';
        INSERT INTO all_types VALUES
        (1, -128, 255, -32768, 65535, -8388608, 16777215, -2147483648, 4294967295, -9223372036854775808, 18446744073709551615,
         -12345678.91, 12345678901234567890.0123456789, -12345678901234567890123456789012345.123456789012345678901234567890, -99999, 1.5, -2.25e100,
         'héllo', REPEAT('x', 300), 'abc', REPEAT('ü', 255), 0x00FF10, 0x01020304, 'äöü',
         'text ✓', 'tiny', 'medium', 0xDEADBEEF, 0x000102,
         '2024-02-29', '2024-12-31 23:59:59', '2025-01-02 03:04:05.678', '1999-12-31 23:59:59.999999', '2024-06-01 12:34:56.78', '2038-01-19 03:14:07',
         '-838:59:59', '-10:00:00.5', '-01:02:03.0004', '-12:34:56.123456', 2155,
         'c', 'x,z', b'1010101010'),
        (2, 127, 0, 32767, 0, 8388607, 0, 2147483647, 0, 9223372036854775807, 0,
         0, -0.0000000001, 0, 0, -0.25, 0,
         '', '', '', '', '', 0x00000000, '',
         '', '', '', '', '',
         '1000-01-01', '1000-01-01 00:00:00', '2020-01-01 00:00:00.001', '2020-01-01 00:00:00.000001', '1970-01-01 00:00:01', '1970-01-01 00:00:01',
         '00:00:00', '00:00:00.0', '838:59:59', '00:00:00.000001', 1901,
         'a', '', b'0'),
        (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
         NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
         NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
        UPDATE all_types SET vc = 'updated', i = 42 WHERE id = 2;
        DELETE FROM all_types WHERE id = 1;
        """;

    private MariaDbServer Server => fixture.Server;

    [Fact]
    public async Task Every_type_decodes_exactly_with_full_metadata()
    {
        await Server.SqlAsync("SET GLOBAL binlog_row_metadata = 'FULL';").DefaultTimeout();
        var db = await Server.CreateDatabaseAsync("types");
        var start = await BinlogFiles.CurrentFileAsync(Server);
        await Server.SqlAsync(AllTypesTable + InsertRows, db).DefaultTimeout();

        var events = await BinlogFiles.ReadEventsAsync(Server, start);
        var changes = BinlogFiles.RowsOf(events, db, "all_types");
        Assert.Equal(5, changes.Count);

        Assert.All(changes.Take(3), c => Assert.Equal(RowChangeKind.Insert, c.Kind));
        AssertRow(Row1, changes[0].After!);
        AssertRow(Row2, changes[1].After!);
        AssertRow(Row3, changes[2].After!);

        Assert.Equal(RowChangeKind.Update, changes[3].Kind);
        AssertRow(Row2, changes[3].Before!);
        var updated = (object?[])Row2.Clone();
        updated[7] = 42;
        updated[17] = "updated";
        AssertRow(updated, changes[3].After!);

        Assert.Equal(RowChangeKind.Delete, changes[4].Kind);
        Assert.Null(changes[4].After);
        AssertRow(Row1, changes[4].Before!);

        var map = changes[0].TableMap;
        Assert.True(map.HasColumnNames);
        Assert.True(map.HasSignedness);
        Assert.Equal(["id"], map.PrimaryKey.Select(i => map.Columns[i].Name));
        Assert.Equal("vc", changes[0].ColumnNames![17]);
        Assert.Equal("héllo", changes[0].After!["vc"]);
        Assert.Equal(["a", "b", "c"], map.Columns[40].EnumOrSetValues!);
        Assert.Equal(TableColumn.BinaryCollation, map.Columns[21].Collation);
        Assert.NotEqual(TableColumn.BinaryCollation, map.Columns[24].Collation);
    }

    [Fact]
    public async Task Without_metadata_integers_decode_signed_and_say_signedness_is_unknown()
    {
        await Server.SqlAsync("SET GLOBAL binlog_row_metadata = 'NO_LOG';").DefaultTimeout();
        try
        {
            var db = await Server.CreateDatabaseAsync("nometa");
            var start = await BinlogFiles.CurrentFileAsync(Server);
            await Server.SqlAsync(AllTypesTable + InsertRows, db).DefaultTimeout();
            var events = await BinlogFiles.ReadEventsAsync(Server, start);
            var rowsEvent = events.OfType<RowsEvent>().First(e => e.Table?.Schema == db);
            var map = rowsEvent.Table!;
            Assert.False(map.HasColumnNames);
            Assert.False(map.HasSignedness);
            Assert.Null(map.ColumnNames);
            Assert.All(map.Columns, c => Assert.False(c.IsSignednessKnown));

            var reader = rowsEvent.GetRowReader();
            Assert.True(reader.Read());
            var row = reader.After;
            Assert.Equal((sbyte)-1, row.GetValue(2)); // TINYINT UNSIGNED 255, raw as signed
            Assert.Equal(255UL, row.GetUInt64(2));
            Assert.Equal(-1L, (long)row.GetValue(10)!); // BIGINT UNSIGNED max, raw as signed
            Assert.Equal(ulong.MaxValue, row.GetUInt64(10));
            Assert.Equal("héllo", row.GetValue(17)); // VARCHAR without charset: UTF-8 text
            Assert.Equal(Encoding.UTF8.GetBytes("text ✓"), (byte[])row.GetValue(24)!); // TEXT without charset: bytes
            Assert.Equal(Row1[29], row.GetValue(29));
        }
        finally
        {
            await Server.SqlAsync("SET GLOBAL binlog_row_metadata = 'FULL';").DefaultTimeout();
        }
    }

    [Fact]
    public async Task Minimal_row_image_gives_partial_images_with_absent_columns()
    {
        await Server.SqlAsync("SET GLOBAL binlog_row_metadata = 'FULL';").DefaultTimeout();
        var db = await Server.CreateDatabaseAsync("minimal");
        var start = await BinlogFiles.CurrentFileAsync(Server);
        await Server.SqlAsync(
            """
            CREATE TABLE p (id INT PRIMARY KEY, a VARCHAR(10), b BIGINT UNSIGNED, c INT);
            INSERT INTO p VALUES (1, 'one', 10, 100), (2, 'two', 20, 200);
            SET SESSION binlog_row_image = 'MINIMAL';
            UPDATE p SET b = 11 WHERE id = 1;
            DELETE FROM p WHERE id = 2;
            """, db).DefaultTimeout();
        var changes = BinlogFiles.RowsOf(await BinlogFiles.ReadEventsAsync(Server, start), db, "p");
        Assert.Equal(4, changes.Count);

        var update = changes[2];
        Assert.Equal(RowChangeKind.Update, update.Kind);
        Assert.True(update.Before!.IsPresent(0));
        Assert.False(update.Before.IsPresent(1));
        Assert.Equal(1, update.Before[0]);
        Assert.Null(update.Before[1]);
        Assert.False(update.After!.IsPresent(0));
        Assert.True(update.After.IsPresent(2));
        Assert.Equal(11UL, update.After["b"]);

        var delete = changes[3];
        Assert.Equal(2, delete.Before![0]);
        Assert.False(delete.Before.IsPresent(3));
    }

    [Fact]
    public async Task Zero_dates_decode_as_their_text()
    {
        var db = await Server.CreateDatabaseAsync("zero");
        var start = await BinlogFiles.CurrentFileAsync(Server);
        await Server.SqlAsync(
            """
            SET SESSION sql_mode = '';
            CREATE TABLE z (id INT PRIMARY KEY, d DATE, dt DATETIME(3), ts TIMESTAMP(2) NULL, o DATETIME);
            INSERT INTO z VALUES (1, '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '2024-00-10 00:00:00');
            """, db).DefaultTimeout();
        var change = Assert.Single(BinlogFiles.RowsOf(await BinlogFiles.ReadEventsAsync(Server, start), db, "z"));
        Assert.Equal("0000-00-00", change.After![1]);
        Assert.Equal("0000-00-00 00:00:00.000", change.After[2]);
        Assert.Equal("0000-00-00 00:00:00.00", change.After[3]);
        Assert.Equal("2024-00-10 00:00:00", change.After[4]);
    }

    [Fact]
    public async Task Old_temporal_formats_decode()
    {
        var db = await Server.CreateDatabaseAsync("oldtime");
        var start = await BinlogFiles.CurrentFileAsync(Server);
        await Server.SqlAsync("SET GLOBAL mysql56_temporal_format = OFF;").DefaultTimeout();
        try
        {
            await Server.SqlAsync(
                """
                SET time_zone = '+00:00';
                CREATE TABLE o (id INT PRIMARY KEY, dt DATETIME, ts TIMESTAMP NULL, tm TIME);
                INSERT INTO o VALUES (1, '2024-12-31 23:59:58', '2024-06-01 12:34:56', '-123:45:06'), (2, '1000-01-01 00:00:00', NULL, '00:00:01');
                """, db).DefaultTimeout();
        }
        finally
        {
            await Server.SqlAsync("SET GLOBAL mysql56_temporal_format = ON;").DefaultTimeout();
        }

        var changes = BinlogFiles.RowsOf(await BinlogFiles.ReadEventsAsync(Server, start), db, "o");
        var map = changes[0].TableMap;
        Assert.Equal([BinlogColumnType.DateTime, BinlogColumnType.Timestamp, BinlogColumnType.Time], map.Columns.Skip(1).Select(c => c.Type));
        AssertRow([1, new DateTime(2024, 12, 31, 23, 59, 58), new DateTime(2024, 6, 1, 12, 34, 56, DateTimeKind.Utc), -new TimeSpan(123, 45, 6)], changes[0].After!);
        AssertRow([2, new DateTime(1000, 1, 1), null, TimeSpan.FromSeconds(1)], changes[1].After!);
    }

    [Fact]
    public async Task History_rows_read_without_boxing_match_what_was_written()
    {
        var db = await Server.CreateDatabaseAsync("history");
        var start = await BinlogFiles.CurrentFileAsync(Server);
        var sql = new StringBuilder(
            """
            CREATE TABLE history (user_id BIGINT UNSIGNED NOT NULL, content_type SMALLINT UNSIGNED NOT NULL,
              content_id BIGINT UNSIGNED NOT NULL, read_at DATETIME(3) NOT NULL, read_ms BIGINT NOT NULL,
              PRIMARY KEY (user_id, content_type, content_id)) ENGINE=InnoDB;
            INSERT INTO history VALUES
            """);
        var expected = new List<(ulong User, ushort Type, ulong Content, DateTime At, long Ms)>();
        for (var i = 0; i < 200; i++)
        {
            var at = new DateTime(2026, 1, 1).AddMilliseconds(i * 1_234_567L);
            var row = ((ulong)i * 7_919_000_000_001UL + 18_000_000_000_000_000_000UL, (ushort)(i % 65_536 * 331 % 65_536), (ulong)i * 31, at, i * 1000L - 5);
            expected.Add(row);
            sql.Append(i == 0 ? string.Empty : ",").Append(BinlogFiles.Invariant(
                $"({row.Item1}, {row.Item2}, {row.Item3}, '{at:yyyy-MM-dd HH:mm:ss.fff}', {row.Item5})"));
        }

        sql.Append(';');
        await Server.SqlAsync(sql.ToString(), db).DefaultTimeout();
        var rowsEvents = (await BinlogFiles.ReadEventsAsync(Server, start)).OfType<RowsEvent>().Where(e => e.Table?.Schema == db).ToList();
        Span<int> scratch = stackalloc int[10];
        var actual = new List<(ulong, ushort, ulong, DateTime, long)>();
        foreach (var rows in rowsEvents)
        {
            var reader = rows.GetRowReader(scratch);
            while (reader.Read())
            {
                var image = reader.Current;
                actual.Add((image.GetUInt64(0), (ushort)image.GetUInt64(1), image.GetUInt64(2), image.GetDateTime(3), image.GetInt64(4)));
            }
        }

        Assert.Equal(expected, actual);
    }

    [Fact]
    public async Task Table_filter_skips_rows_of_other_tables_before_decoding()
    {
        var db = await Server.CreateDatabaseAsync("filter");
        var start = await BinlogFiles.CurrentFileAsync(Server);
        await Server.SqlAsync(
            """
            CREATE TABLE keep (id INT PRIMARY KEY);
            CREATE TABLE skip (id INT PRIMARY KEY);
            INSERT INTO keep VALUES (1);
            INSERT INTO skip VALUES (2);
            """, db).DefaultTimeout();
        var events = await BinlogFiles.ReadEventsAsync(Server, start, (schema, table) => schema == db && table == "keep");
        var ours = events.OfType<RowsEvent>().Where(e => e.Table?.Schema == db).ToList();
        Assert.Equal(2, ours.Count);
        Assert.False(ours.Single(e => e.Table!.Table == "keep").IsSkipped);
        var skipped = ours.Single(e => e.Table!.Table == "skip");
        Assert.True(skipped.IsSkipped);
        Assert.False(skipped.Table!.IsIncluded);
        Assert.Equal(1, Assert.Single(BinlogFiles.RowsOf(ours.Where(e => !e.IsSkipped), db, "keep")).After![0]);
    }

    [Fact]
    public async Task Compressed_rows_and_query_events_decode()
    {
        var db = await Server.CreateDatabaseAsync("compressed");
        var start = await BinlogFiles.CurrentFileAsync(Server);
        await Server.SqlAsync("SET GLOBAL log_bin_compress = ON; SET GLOBAL log_bin_compress_min_len = 10;").DefaultTimeout();
        try
        {
            await Server.SqlAsync(
                """
                CREATE TABLE c (id INT PRIMARY KEY, v VARCHAR(1000));
                INSERT INTO c VALUES (1, REPEAT('abc', 300)), (2, 'short but compressed');
                UPDATE c SET v = REPEAT('z', 500) WHERE id = 2;
                DELETE FROM c WHERE id = 1;
                """, db).DefaultTimeout();
        }
        finally
        {
            await Server.SqlAsync("SET GLOBAL log_bin_compress = OFF;").DefaultTimeout();
        }

        var events = await BinlogFiles.ReadEventsAsync(Server, start);
        var rowsEvents = events.OfType<RowsEvent>().Where(e => e.Table?.Schema == db).ToList();
        Assert.All(rowsEvents, e => Assert.True(e.IsCompressed));
        Assert.Contains(events, e => e.Header.EventType == BinlogEventType.QueryCompressed && ((QueryEvent)e).Sql.Contains("CREATE TABLE c", StringComparison.Ordinal));
        var changes = rowsEvents.SelectMany(e => e.DecodeRows()).ToList();
        Assert.Equal(4, changes.Count);
        Assert.Equal(string.Concat(Enumerable.Repeat("abc", 300)), changes[0].After![1]);
        Assert.Equal(new string('z', 500), changes[2].After![1]);
        Assert.Equal(1, changes[3].Before![0]);
    }

    private static void AssertRow(object?[] expected, RowValues actual)
    {
        Assert.Equal(expected.Length, actual.Count);
        for (var i = 0; i < expected.Length; i++)
        {
            var want = expected[i];
            var got = actual[i];
            if (want is DateTime wantTime && got is DateTime gotTime)
            {
                Assert.True(wantTime == gotTime && wantTime.Kind == gotTime.Kind, $"column {i}: expected {wantTime:O} ({wantTime.Kind}), got {gotTime:O} ({gotTime.Kind})");
                continue;
            }

            if (want is decimal wantDecimal && got is decimal gotDecimal)
            {
                Assert.True(wantDecimal == gotDecimal && wantDecimal.Scale == gotDecimal.Scale, $"column {i}: expected {wantDecimal}, got {gotDecimal}");
                continue;
            }

            Assert.True(Equals(want, got) || (want is byte[] a && got is byte[] b && a.AsSpan().SequenceEqual(b)),
                $"column {i}: expected {Show(want)}, got {Show(got)}");
        }
    }

    private static string Show(object? value) => value switch
    {
        null => "null",
        byte[] bytes => "0x" + Convert.ToHexString(bytes),
        _ => $"{value} ({value.GetType().Name})",
    };
}
