using ReadHistory.MySql.Replication.Client;
using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.MySql.Replication.Tests;

/// <summary>Server restarts and silent servers under a reading client; each test has its own MariaDB.</summary>
public sealed class ReconnectTests
{
    private static readonly TimeSpan LongTimeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task A_killed_and_restarted_server_loses_no_committed_row_in_gtid_mode()
    {
        await using var server = await StartServerAsync();
        var db = await server.CreateDatabaseAsync("kill");
        await server.SqlAsync("CREATE TABLE t (id BIGINT PRIMARY KEY, v VARCHAR(20));", db).DefaultTimeout();
        var gtid = (await server.SqlAsync("SELECT @@gtid_binlog_pos;").DefaultTimeout()).Trim();
        var options = ClientTestKit.Options(server, BinlogStart.FromGtid(gtid));
        var client = new BinlogClient(options);
        var reading = ClientTestKit.CollectAsync(client, list => ClientTestKit.InsertedIds(list, db, "t").Count >= 40);
        await BinlogClientTests.WaitForDumpAsync(server, options.ServerId).DefaultTimeout();

        await server.SqlAsync(ClientTestKit.InsertEach(0, 20), db).DefaultTimeout();
        await server.KillAsync().DefaultTimeout();
        await Task.Delay(500);
        await server.RestartAsync().WaitAsync(LongTimeout);
        await server.SqlAsync(ClientTestKit.InsertEach(20, 40), db).DefaultTimeout();

        var transactions = await reading.WaitAsync(LongTimeout);
        Assert.Equal(Enumerable.Range(0, 40).Select(i => (long)i), ClientTestKit.InsertedIds(transactions, db, "t"));
        Assert.True(client.ReconnectCount >= 1, "the client should have reconnected");
        Assert.Equal(transactions.Count, transactions.Select(t => t.Gtid).Distinct().Count());
    }

    [Fact]
    public async Task A_cleanly_restarted_server_is_followed_in_file_position_mode()
    {
        await using var server = await StartServerAsync();
        var db = await server.CreateDatabaseAsync("stop");
        await server.SqlAsync("CREATE TABLE t (id BIGINT PRIMARY KEY, v VARCHAR(20));", db).DefaultTimeout();
        var options = ClientTestKit.Options(server, BinlogStart.Current);
        var client = new BinlogClient(options);
        var reading = ClientTestKit.CollectAsync(client, list => ClientTestKit.InsertedIds(list, db, "t").Count >= 30);
        await BinlogClientTests.WaitForDumpAsync(server, options.ServerId).DefaultTimeout();

        await server.SqlAsync(ClientTestKit.InsertEach(0, 15), db).DefaultTimeout();
        await server.StopAsync().WaitAsync(LongTimeout);
        await server.RestartAsync().WaitAsync(LongTimeout);
        await server.SqlAsync(ClientTestKit.InsertEach(15, 30), db).DefaultTimeout();

        var transactions = await reading.WaitAsync(LongTimeout);
        Assert.Equal(Enumerable.Range(0, 30).Select(i => (long)i), ClientTestKit.InsertedIds(transactions, db, "t"));
        Assert.True(client.ReconnectCount >= 1, "the client should have reconnected");
        Assert.Equal(BinlogStartKind.Position, client.ResumePoint.Kind);
    }

    [Fact]
    public async Task A_silent_server_trips_the_heartbeat_timeout_and_the_client_reconnects()
    {
        await using var server = await StartServerAsync();
        var db = await server.CreateDatabaseAsync("silent");
        await server.SqlAsync("CREATE TABLE t (id BIGINT PRIMARY KEY, v VARCHAR(20));", db).DefaultTimeout();
        var options = ClientTestKit.Options(server, BinlogStart.Current);
        var client = new BinlogClient(options);
        var reading = ClientTestKit.CollectAsync(client, list => ClientTestKit.InsertedIds(list, db, "t").Count >= 10);
        await BinlogClientTests.WaitForDumpAsync(server, options.ServerId).DefaultTimeout();
        await server.SqlAsync(ClientTestKit.InsertEach(0, 5), db).DefaultTimeout();

        // Freeze the server: the socket stays open but nothing comes, heartbeats included.
        await ChildProcess.SignalAsync(server.ProcessId, "STOP").DefaultTimeout();
        try
        {
            // 8 heartbeat periods of 1 s, over three times the 2.5 s timeout: a loaded machine's late timer still fires in it.
            await Task.Delay(TimeSpan.FromSeconds(8));
        }
        finally
        {
            await ChildProcess.SignalAsync(server.ProcessId, "CONT").DefaultTimeout();
        }

        await server.SqlAsync(ClientTestKit.InsertEach(5, 10), db).DefaultTimeout();
        var transactions = await reading.WaitAsync(LongTimeout);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), ClientTestKit.InsertedIds(transactions, db, "t"));
        Assert.True(client.ReconnectCount >= 1, "the heartbeat timeout should have made the client reconnect");
    }

    [Fact]
    public async Task Idle_stream_stays_up_on_heartbeats()
    {
        await using var server = await StartServerAsync();
        var db = await server.CreateDatabaseAsync("idle");
        await server.SqlAsync("CREATE TABLE t (id BIGINT PRIMARY KEY, v VARCHAR(20));", db).DefaultTimeout();
        // Heartbeats every 1 s against a 2.5 s timeout: 1.5 s of slack for a loaded machine (0.75 s at 500 ms was tight).
        var options = ClientTestKit.Options(server, BinlogStart.Current, o => o.Heartbeat = TimeSpan.FromSeconds(1));
        var client = new BinlogClient(options);
        var reading = ClientTestKit.CollectAsync(client, list => ClientTestKit.InsertedIds(list, db, "t").Count >= 1);
        await BinlogClientTests.WaitForDumpAsync(server, options.ServerId).DefaultTimeout();
        await Task.Delay(TimeSpan.FromSeconds(6)); // 6 heartbeat periods, over two timeouts, with nothing to send
        await server.SqlAsync(ClientTestKit.InsertEach(0, 1), db).DefaultTimeout();
        await reading.WaitAsync(LongTimeout);
        Assert.Equal(0, client.ReconnectCount);
    }

    private static Task<MariaDbServer> StartServerAsync() =>
        MariaDbServer.StartAsync(new MariaDbServerOptions { RocksDb = false }).WaitAsync(LongTimeout);
}
