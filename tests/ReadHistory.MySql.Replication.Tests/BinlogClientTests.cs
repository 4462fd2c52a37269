using ReadHistory.MySql.Replication.Client;
using ReadHistory.MySql.Replication.Events;
using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.MySql.Replication.Tests;

/// <summary>The replication client against the shared MariaDB: live streaming, GTID and file/position resume.</summary>
[Collection(MariaDbFixture.Collection)]
public sealed class BinlogClientTests(MariaDbFixture fixture)
{
    private MariaDbServer Server => fixture.Server;

    [Fact]
    public async Task Streams_committed_transactions_live_with_rows_statements_and_positions()
    {
        var db = await Server.CreateDatabaseAsync("live");
        await Server.SqlAsync("CREATE TABLE t (id BIGINT UNSIGNED PRIMARY KEY, v VARCHAR(20)); CREATE TABLE other (id INT PRIMARY KEY);", db).DefaultTimeout();
        var options = ClientTestKit.Options(Server, BinlogStart.Current, o => o.Filter = (schema, table) => schema == db && table == "t");
        var client = new BinlogClient(options);
        var reading = ClientTestKit.CollectAsync(client, list => list.Any(t => t.Statements.Any(s => s.Sql.StartsWith("TRUNCATE", StringComparison.OrdinalIgnoreCase))));

        // Let the client connect before writing, so that Current is before the writes.
        await WaitForDumpAsync(Server, options.ServerId).DefaultTimeout();
        await Server.SqlAsync(
            """
            INSERT INTO t VALUES (1, 'one');
            BEGIN; INSERT INTO t VALUES (2, 'two'), (3, 'three'); INSERT INTO other VALUES (1); UPDATE t SET v = 'TWO' WHERE id = 2; COMMIT;
            BEGIN; INSERT INTO t VALUES (99, 'rolled back'); ROLLBACK;
            DELETE FROM t WHERE id = 1;
            INSERT INTO other VALUES (2);
            TRUNCATE TABLE t;
            """, db).DefaultTimeout();

        var transactions = await reading.WaitAsync(ClientTestKit.StreamTimeout);
        var ours = transactions.Where(t => t.Changes.Any(c => c.Schema == db) || t.Statements.Any(s => s.Schema == db)).ToList();
        Assert.Equal(4, ours.Count);
        Assert.Equal([1L], ClientTestKit.InsertedIds([ours[0]], db, "t"));
        Assert.Equal([RowChangeKind.Insert, RowChangeKind.Insert, RowChangeKind.Update], ours[1].Changes.Select(c => c.Kind));
        Assert.Equal(2, ours[1].Changes[0].TableMap.Columns.Count);
        Assert.Equal(2, ours[1].RowsEvents[0].CountRows());
        Assert.Equal("TWO", ours[1].Changes[2].After![1]);
        Assert.DoesNotContain(ours.SelectMany(t => t.Changes), c => c.Table == "other"); // filtered
        Assert.Equal(RowChangeKind.Delete, Assert.Single(ours[2].Changes).Kind);
        Assert.Contains("TRUNCATE", Assert.Single(ours[3].Statements).Sql, StringComparison.OrdinalIgnoreCase);

        // Filtered-out transactions still come (empty) so the position moves on; GTIDs increase.
        Assert.Contains(transactions, t => t.IsEmpty);
        var sequences = transactions.Select(t => t.Gtid!.Value.Sequence).ToList();
        Assert.Equal(sequences.Order(), sequences);
        Assert.Equal(transactions[^1].GtidPosition, client.GtidPosition);
        var status = await Server.SqlAsync("SELECT @@gtid_binlog_pos;").DefaultTimeout();
        Assert.Equal(status.Trim(), client.GtidPosition.ToString());
        var masterStatus = (await Server.SqlAsync("SHOW MASTER STATUS;").DefaultTimeout()).Split('\t');
        Assert.Equal(new BinlogPosition(masterStatus[0], ulong.Parse(masterStatus[1], System.Globalization.CultureInfo.InvariantCulture)), client.Position);
    }

    [Fact]
    public async Task Restarting_from_a_saved_gtid_resumes_with_nothing_lost_and_nothing_repeated()
    {
        var db = await Server.CreateDatabaseAsync("resume");
        await Server.SqlAsync("CREATE TABLE t (id BIGINT PRIMARY KEY, v VARCHAR(20));" + ClientTestKit.InsertEach(0, 10), db).DefaultTimeout();
        var start = (await Server.SqlAsync("SELECT @@gtid_binlog_pos;").DefaultTimeout()).Trim();
        await Server.SqlAsync(ClientTestKit.InsertEach(10, 30), db).DefaultTimeout();

        // First reader: from the GTID before row 10, stops after row 19 and saves its GTID position.
        var first = new BinlogClient(ClientTestKit.Options(Server, BinlogStart.FromGtid(start)));
        var firstBatch = await ClientTestKit.CollectAsync(first, list => ClientTestKit.InsertedIds(list, db, "t").Contains(19));
        Assert.Equal(Enumerable.Range(10, 10).Select(i => (long)i), ClientTestKit.InsertedIds(firstBatch, db, "t"));
        var saved = firstBatch[^1].GtidPosition.ToString();
        Assert.Equal(saved, first.GtidPosition.ToString());

        await Server.SqlAsync(ClientTestKit.InsertEach(30, 35), db).DefaultTimeout();

        // Second reader from the saved GTID: exactly rows 20..34.
        var second = new BinlogClient(ClientTestKit.Options(Server, BinlogStart.FromGtid(saved), o => o.StopAtEnd = true));
        var rest = await ClientTestKit.ReadToEndAsync(second);
        Assert.Equal(Enumerable.Range(20, 15).Select(i => (long)i), ClientTestKit.InsertedIds(rest, db, "t"));
        Assert.DoesNotContain(rest, t => firstBatch.Any(f => f.Gtid == t.Gtid));
    }

    [Fact]
    public async Task Restarting_from_a_saved_file_position_resumes_exactly()
    {
        var db = await Server.CreateDatabaseAsync("filepos");
        await Server.SqlAsync("CREATE TABLE t (id BIGINT PRIMARY KEY, v VARCHAR(20));", db).DefaultTimeout();
        var status = (await Server.SqlAsync("SHOW MASTER STATUS;").DefaultTimeout()).Split('\t');
        await Server.SqlAsync(ClientTestKit.InsertEach(0, 6), db).DefaultTimeout();
        await Server.SqlAsync("FLUSH BINARY LOGS;").DefaultTimeout(); // the resume crosses a file boundary
        await Server.SqlAsync(ClientTestKit.InsertEach(6, 12), db).DefaultTimeout();

        var first = new BinlogClient(ClientTestKit.Options(Server, BinlogStart.FromPosition(status[0], ulong.Parse(status[1], System.Globalization.CultureInfo.InvariantCulture))));
        var firstBatch = await ClientTestKit.CollectAsync(first, list => ClientTestKit.InsertedIds(list, db, "t").Contains(3));
        Assert.Equal([0L, 1, 2, 3], ClientTestKit.InsertedIds(firstBatch, db, "t"));
        var saved = first.Position!.Value;

        var second = new BinlogClient(ClientTestKit.Options(Server, BinlogStart.FromPosition(saved.FileName, saved.Position), o => o.StopAtEnd = true));
        var rest = await ClientTestKit.ReadToEndAsync(second);
        Assert.Equal(Enumerable.Range(4, 8).Select(i => (long)i), ClientTestKit.InsertedIds(rest, db, "t"));
        Assert.NotEqual(saved.FileName, second.Position!.Value.FileName);
    }

    [Fact]
    public async Task Earliest_start_reads_from_the_first_binlog_file()
    {
        var client = new BinlogClient(ClientTestKit.Options(Server, BinlogStart.Earliest, o => o.StopAtEnd = true));
        var all = await ClientTestKit.ReadToEndAsync(client);
        Assert.Contains(all, t => t.Statements.Any(s => s.Sql.Contains("CREATE DATABASE", StringComparison.OrdinalIgnoreCase)));
    }

    [Fact]
    public async Task Low_level_event_stream_shows_the_dump_preamble_and_rows()
    {
        var db = await Server.CreateDatabaseAsync("events");
        await Server.SqlAsync("CREATE TABLE t (id BIGINT PRIMARY KEY, v VARCHAR(20));" + ClientTestKit.InsertEach(0, 3), db).DefaultTimeout();
        var client = new BinlogClient(ClientTestKit.Options(Server, BinlogStart.Earliest, o => o.StopAtEnd = true));
        var events = new List<BinlogEvent>();
        using var cts = new CancellationTokenSource(ClientTestKit.StreamTimeout);
        await foreach (var binlogEvent in client.ReadEventsAsync(cts.Token))
        {
            events.Add(binlogEvent);
        }

        var rotate = Assert.IsType<RotateEvent>(events[0]);
        Assert.True(rotate.Header.IsArtificial);
        var description = Assert.IsType<FormatDescriptionEvent>(events[1]);
        Assert.Equal(BinlogChecksumAlgorithm.Crc32, description.ChecksumAlgorithm);
        Assert.True(description.IsMariaDb);
        Assert.Contains(events, e => e is MariaDbGtidListEvent);
        Assert.Contains(events, e => e is BinlogCheckpointEvent);
        Assert.Contains(events, e => e is XidEvent);
        var ours = events.OfType<RowsEvent>().Where(e => e.Table?.Schema == db).SelectMany(e => e.DecodeRows()).ToList();
        Assert.Equal([0L, 1, 2], ours.Select(r => (long)r.After![0]!));
    }

    [Fact]
    public async Task A_missing_binlog_file_is_a_server_error_not_a_reconnect_loop()
    {
        var client = new BinlogClient(ClientTestKit.Options(Server, BinlogStart.FromPosition("binlog.999999", 4)));
        var error = await Assert.ThrowsAsync<ReplicationException>(() => ClientTestKit.ReadToEndAsync(client)).DefaultTimeout();
        Assert.Equal(1236, error.Number);
        Assert.Equal(0, client.ReconnectCount);
    }

    /// <summary>Waits until the client with <paramref name="serverId"/> has registered (it resolved its start position before that).</summary>
    internal static async Task WaitForDumpAsync(MariaDbServer server, uint serverId)
    {
        var id = serverId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        for (var i = 0; i < 300; i++)
        {
            var hosts = await server.SqlAsync("SHOW SLAVE HOSTS;");
            if (hosts.Split('\n').Any(line => line.Split('\t')[0] == id))
            {
                return;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"the binlog client with server id {serverId} did not register");
    }
}
