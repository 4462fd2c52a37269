using System.Data;
using System.Diagnostics.Metrics;
using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.MySql.Tests;

[Collection(MariaDbFixture.Collection)]
public sealed class PoolTests(MariaDbFixture fixture)
{
    private MariaDbServer Server => fixture.Server;

    [Fact]
    public async Task Reuses_connections_and_resets_session_state()
    {
        var cs = await TestDatabase.ConnectionStringAsync(Server, "Maximum Pool Size=3");
        int firstId;
        await using (var connection = await TestDatabase.OpenAsync(cs))
        {
            firstId = connection.ServerThread;
            await connection.RunAsync("SET @leftover = 42");
            await connection.ChangeDatabaseAsync("mysql");
        }

        await using (var connection = await TestDatabase.OpenAsync(cs))
        {
            Assert.Equal(firstId, connection.ServerThread);
            await using var command = new MySqlCommand("SELECT @leftover IS NULL, DATABASE()", connection);
            await using var reader = await command.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal(1, reader.GetInt32(0));
            Assert.NotEqual("mysql", reader.GetString(1));
        }
    }

    [Fact]
    public async Task Exhausted_pool_times_out_with_a_clear_error()
    {
        var cs = await TestDatabase.ConnectionStringAsync(Server, "Maximum Pool Size=2;Connection Timeout=1");
        await using var a = await TestDatabase.OpenAsync(cs);
        await using var b = await TestDatabase.OpenAsync(cs);
        var started = System.Diagnostics.Stopwatch.StartNew();
        await using var c = new MySqlConnection(cs);
        var ex = await Assert.ThrowsAsync<MySqlException>(() => c.OpenAsync()).DefaultTimeout();
        Assert.Equal(MySqlErrorCode.ConnectionPoolExhausted, ex.ErrorCode);
        Assert.Contains("pool exhausted", ex.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("one of 2 connections", ex.Message, StringComparison.Ordinal);
        // Not a latency bound: at least the 1 s timeout, and far under the test's own bound whatever a loaded machine adds.
        Assert.InRange(started.Elapsed, TimeSpan.FromMilliseconds(900), TimeSpan.FromSeconds(20));

        // A waiter gets the connection as soon as one is returned.
        // Returned as soon as the pool counts the waiter (not after a fixed 100 ms, which a loaded machine could stretch
        // toward the waiter's 1 s timeout).
        var waiting = c.OpenAsync();
        var pool = ConnectionPool.Find(cs)!;
        for (var i = 0; i < 500 && pool.WaiterCount == 0 && !waiting.IsCompleted; i++)
        {
            await Task.Delay(2);
        }

        await a.CloseAsync();
        await waiting.DefaultTimeout();
        Assert.Equal(ConnectionState.Open, c.State);
    }

    [Fact]
    public async Task Killed_connection_is_not_returned_to_the_pool()
    {
        var cs = await TestDatabase.ConnectionStringAsync(Server, "Maximum Pool Size=5");
        int killedId;
        await using (var connection = await TestDatabase.OpenAsync(cs))
        {
            killedId = connection.ServerThread;
            await Server.SqlAsync($"KILL {killedId}");
            await using var command = new MySqlCommand("SELECT 1", connection);
            var ex = await Assert.ThrowsAnyAsync<MySqlException>(() => command.ExecuteScalarAsync()).DefaultTimeout();
            Assert.True(ex is MySqlConnectionException || ex.ErrorCode == MySqlErrorCode.ConnectionKilled, ex.ToString());
            Assert.NotEqual(ConnectionState.Open, connection.State);
        }

        await using (var connection = await TestDatabase.OpenAsync(cs))
        {
            Assert.NotEqual(killedId, connection.ServerThread);
            await using var command = new MySqlCommand("SELECT 1", connection);
            Assert.Equal(1, Convert.ToInt32(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    [Fact]
    public async Task Idle_connection_killed_while_pooled_is_detected_on_reuse()
    {
        var cs = await TestDatabase.ConnectionStringAsync(Server, "Maximum Pool Size=5;Connection Reset=false");
        int killedId;
        await using (var connection = await TestDatabase.OpenAsync(cs))
        {
            killedId = connection.ServerThread;
        }

        await Server.SqlAsync($"KILL {killedId}");

        // The kill is over once the server no longer lists the thread (bounded wait); then a moment for its socket to close.
        for (var i = 0; i < 200 && (await Server.SqlAsync($"SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = {killedId}")).Trim() != "0"; i++)
        {
            await Task.Delay(50);
        }

        await Task.Delay(200);
        await using var again = await TestDatabase.OpenAsync(cs);
        Assert.NotEqual(killedId, again.ServerThread);
        await using var command = new MySqlCommand("SELECT 1", again);
        Assert.NotNull(await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Prunes_idle_connections_and_keeps_the_minimum()
    {
        var cs = await TestDatabase.ConnectionStringAsync(Server, "Minimum Pool Size=1;Maximum Pool Size=5;Connection Idle Timeout=1");
        var connections = new List<MySqlConnection>();
        for (var i = 0; i < 3; i++)
        {
            connections.Add(await TestDatabase.OpenAsync(cs));
        }

        var pool = ConnectionPool.Find(cs)!;
        Assert.Equal(3, pool.OpenCount);
        foreach (var connection in connections)
        {
            await connection.DisposeAsync();
        }

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (pool.OpenCount > 1 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.Equal(1, pool.OpenCount);
    }

    [Fact]
    public async Task Publishes_metrics_and_clears_pools()
    {
        var cs = await TestDatabase.ConnectionStringAsync(Server, "Maximum Pool Size=4");
        var seen = new Dictionary<string, long>();
        var waits = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "ReadHistory.MySql")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            string? pool = null, state = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "pool")
                {
                    pool = (string?)tag.Value;
                }
                else if (tag.Key == "state")
                {
                    state = (string?)tag.Value;
                }
            }

            if (pool is not null && pool.EndsWith(cs.Split("Database=")[1].Split(';')[0], StringComparison.Ordinal))
            {
                lock (seen)
                {
                    seen[instrument.Name + "/" + state] = value;
                }
            }
        });
        listener.SetMeasurementEventCallback<double>((instrument, _, _, _) =>
        {
            if (instrument.Name == "readhistory_mysql_pool_wait_seconds")
            {
                Interlocked.Increment(ref waits);
            }
        });
        listener.Start();

        await using var a = await TestDatabase.OpenAsync(cs);
        await using (var b = await TestDatabase.OpenAsync(cs))
        {
        }

        // b goes back to the pool in the background: wait (bounded) until the gauges show it idle.
        for (var i = 0; i < 500; i++)
        {
            listener.RecordObservableInstruments();
            lock (seen)
            {
                if (seen.GetValueOrDefault("readhistory_mysql_pool_connections/idle") == 1)
                {
                    break;
                }
            }

            await Task.Delay(20);
        }

        listener.RecordObservableInstruments();
        Assert.Equal(2, seen["readhistory_mysql_pool_connections/open"]);
        Assert.Equal(1, seen["readhistory_mysql_pool_connections/idle"]);
        Assert.Equal(0, seen["readhistory_mysql_pool_waiters/"]);
        Assert.True(waits >= 2);

        MySqlConnection.ClearAllPools();
        listener.RecordObservableInstruments();
        Assert.Equal(1, seen["readhistory_mysql_pool_connections/open"]);
        Assert.Equal(0, seen["readhistory_mysql_pool_connections/idle"]);
        await a.CloseAsync();
        listener.RecordObservableInstruments();
        Assert.Equal(0, seen["readhistory_mysql_pool_connections/open"]);
    }
}
