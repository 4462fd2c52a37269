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
        await using var command = new MySqlCommand("SELECT SLEEP(10)", connection);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => command.ExecuteScalarAsync(cts.Token)).DefaultTimeout();
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(1.3));

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
        await using var command = new MySqlCommand("SELECT SLEEP(10)", connection) { CommandTimeout = 1 };
        var clock = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<MySqlException>(() => command.ExecuteScalarAsync()).DefaultTimeout();
        Assert.Equal(MySqlErrorCode.CommandTimeoutExpired, ex.ErrorCode);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(3));
        Assert.Equal(ConnectionState.Open, connection.State);
        command.CommandText = "SELECT 1";
        Assert.NotNull(await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Cancel_from_another_thread_stops_a_streaming_read()
    {
        var cs = await TestDatabase.ConnectionStringAsync(Server);
        await using var connection = await TestDatabase.OpenAsync(cs);
        await using var command = new MySqlCommand("SELECT seq, SLEEP(IF(seq = 3000, 10, 0)) FROM seq_1_to_5000", connection);
        var clock = Stopwatch.StartNew();
        var cancel = Task.Run(async () =>
        {
            await Task.Delay(300);
            command.Cancel();
        });
        var rows = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                rows++;
            }
        }).DefaultTimeout();
        await cancel;
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1.5), clock.Elapsed.ToString());
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

        command.CommandText = "SELECT SLEEP(10)";
        cts.CancelAfter(300);
        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => command.ExecuteScalarAsync(cts.Token)).DefaultTimeout();
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), clock.Elapsed.ToString());
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

    [Fact]
    public async Task A_300000_row_scan_is_streamed_in_bounded_memory()
    {
        var cs = await TestDatabase.ConnectionStringAsync(Server);
        await using var connection = await TestDatabase.OpenAsync(cs);
        await connection.RunAsync("CREATE TABLE big (id BIGINT PRIMARY KEY, payload VARCHAR(100))");
        await connection.RunAsync(
            "INSERT INTO big SELECT seq, REPEAT('x', 100) FROM seq_1_to_300000");

        // Whole, the result is 300,000 rows of ~110 bytes (~33 MB of payload, far more as .NET objects).
        await using var command = new MySqlCommand("SELECT id, payload FROM big", connection);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var totalBefore = GC.GetTotalAllocatedBytes(precise: true);
        var peak = GC.GetTotalMemory(forceFullCollection: true);
        var baseline = peak;
        long rows = 0, sum = 0;
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                rows++;
                sum += reader.GetInt64(0);
                if (rows % 20000 == 0)
                {
                    peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: false));
                }
            }
        }

        var allocated = GC.GetTotalAllocatedBytes(precise: true) - totalBefore;
        Assert.Equal(300000, rows);
        Assert.Equal(300000L * 300001 / 2, sum);

        // Buffering the rows would allocate at least the 33 MB of row data; streaming allocates a few small
        // objects per ReadAsync that awaits the socket, and keeps the live heap flat.
        Assert.True(allocated < 16 * 1024 * 1024, $"allocated {allocated} bytes during the scan");
        Assert.True(peak - baseline < 16 * 1024 * 1024, $"managed heap grew by {peak - baseline} bytes");
        _ = allocatedBefore;
    }
}
