using System.Data;
using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.MySql.Tests;

/// <summary>A server killed under open and pooled connections (its own MariaDB, so the shared one stays up).</summary>
public sealed class ServerCrashTests : IAsyncLifetime
{
    private MariaDbServer _server = null!;

    public async Task InitializeAsync() => _server = await MariaDbServer.StartAsync(new MariaDbServerOptions { RocksDb = false, Binlog = false });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Connections_broken_by_a_server_crash_are_never_reused()
    {
        var cs = _server.ConnectionString(extra: "Maximum Pool Size=4;Connection Timeout=3");
        var idle = await TestDatabase.OpenAsync(cs);
        var busy = await TestDatabase.OpenAsync(cs);
        await idle.CloseAsync();
        var pool = ConnectionPool.Find(cs)!;
        Assert.Equal(2, pool.OpenCount);

        await _server.KillAsync();

        await using (var command = new MySqlCommand("SELECT 1", busy))
        {
            var ex = await Assert.ThrowsAnyAsync<MySqlConnectionException>(() => command.ExecuteScalarAsync()).DefaultTimeout();
            Assert.Contains("127.0.0.1", ex.Message, StringComparison.Ordinal);
        }

        Assert.Equal(ConnectionState.Broken, busy.State);
        await busy.CloseAsync();

        // The idle session is found dead on reuse; a new one cannot be made while the server is down.
        await using (var connection = new MySqlConnection(cs))
        {
            var ex = await Assert.ThrowsAsync<MySqlConnectionException>(() => connection.OpenAsync()).DefaultTimeout();
            Assert.Equal(MySqlErrorCode.UnableToConnectToHost, ex.ErrorCode);
        }

        Assert.Equal(0, pool.OpenCount);

        await _server.RestartAsync();
        await using (var connection = await TestDatabase.OpenAsync(cs))
        {
            await using var command = new MySqlCommand("SELECT 1", connection);
            Assert.NotNull(await command.ExecuteScalarAsync().DefaultTimeout());
        }

        Assert.Equal(1, pool.OpenCount);
    }
}
