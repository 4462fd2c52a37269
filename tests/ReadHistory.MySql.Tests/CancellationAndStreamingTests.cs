using System.Data;
using System.Diagnostics;
using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.MySql.Tests;

[Collection(MariaDbFixture.Collection)]
public sealed class CancellationAndStreamingTests(MariaDbFixture fixture)
{
    private MariaDbServer Server => fixture.Server;

    [Fact]
    public async Task Cancellation_kills_the_running_query_and_the_connection_stays_usable()
    {
        var cs = await TestDatabase.ConnectionStringAsync(Server);
        await using var connection = await TestDatabase.OpenAsync(cs);
        var id = connection.ServerThread;
        await using var command = new MySqlCommand("SELECT SLEEP(60)", connection);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => command.ExecuteScalarAsync(cts.Token)).DefaultTimeout();

        // Not a latency bound: far under the 60 s sleep, far over what a loaded machine adds to the 300 ms.
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(20));

        // Same session, still usable, and the kill does not hit the next query.
        Assert.Equal(ConnectionState.Open, connection.State);
        Assert.Equal(id, connection.ServerThread);
        command.CommandText = "SELECT SLEEP(0.2), 5";
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(5, reader.GetInt32(1));
    }

    [Fact]
    public async Task Command_timeout_kills_the_query_with_a_timeout_error()
    {
        var cs = await TestDatabase.ConnectionStringAsync(Server);
        await using var connection = await TestDatabase.OpenAsync(cs);
        await using var command = new MySqlCommand("SELECT SLEEP(60)", connection) { CommandTimeout = 1 };
        var clock = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<MySqlException>(() => command.ExecuteScalarAsync()).DefaultTimeout();
        Assert.Equal(MySqlErrorCode.CommandTimeoutExpired, ex.ErrorCode);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(20));
        Assert.Equal(ConnectionState.Open, connection.State);
        command.CommandText = "SELECT 1";
        Assert.NotNull(await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Cancel_from_another_thread_stops_a_streaming_read()
    {
        var cs = await TestDatabase.ConnectionStringAsync(Server);
        await using var connection = await TestDatabase.OpenAsync(cs);
        await using var command = new MySqlCommand("SELECT seq, SLEEP(IF(seq = 3000, 60, 0)) FROM seq_1_to_5000", connection);
        var clock = Stopwatch.StartNew();
        var rows = 0;

        // Cancel 300 ms after the first row arrived (bounded wait), not 300 ms after the start: on a loaded machine the
        // query might not have been sent by then, and a Cancel with nothing running does nothing.
        var cancel = Task.Run(async () =>
        {
            for (var i = 0; i < 1000 && Volatile.Read(ref rows) == 0; i++)
            {
                await Task.Delay(20);
            }

            await Task.Delay(300);
            command.Cancel();
        });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                Interlocked.Increment(ref rows);
            }
        }).DefaultTimeout();
        await cancel.DefaultTimeout();
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), clock.Elapsed.ToString());
        Assert.True(rows < 5000);
        command.CommandText = "SELECT 2";
        Assert.NotNull(await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task One_token_used_across_commands_still_cancels_the_later_one()
    {
        var cs = await TestDatabase.ConnectionStringAsync(Server);
        await using var connection = await TestDatabase.OpenAsync(cs);
        using var cts = new CancellationTokenSource();
        await using var command = new MySqlCommand("SELECT 1", connection);
        await using (var reader = await command.ExecuteReaderAsync(cts.Token))
        {
            while (await reader.ReadAsync(cts.Token))
            {
            }

            Assert.False(await reader.NextResultAsync(cts.Token));
        }

        command.CommandText = "SELECT SLEEP(60)";
        cts.CancelAfter(300);
        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => command.ExecuteScalarAsync(cts.Token)).DefaultTimeout();
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), clock.Elapsed.ToString());
    }

    [Fact]
    public async Task Sync_methods_time_out_and_cancel_too()
    {
        var cs = await TestDatabase.ConnectionStringAsync(Server);
        using var connection = new MySqlConnection(cs);
        connection.Open();
        using var command = new MySqlCommand("SELECT SLEEP(10)", connection) { CommandTimeout = 1 };
        var ex = Assert.Throws<MySqlException>(() => command.ExecuteScalar());
        Assert.Equal(MySqlErrorCode.CommandTimeoutExpired, ex.ErrorCode);
        command.CommandText = "SELECT 3";
        command.CommandTimeout = 0;
        Assert.NotNull(command.ExecuteScalar());
    }
}
