using MySqlConnector;
using ReadHistory.MySql.Replication.Protocol;
using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.MySql.Replication.Tests;

/// <summary>The replication client's protocol session against a real MariaDB: handshake, errors, framing.</summary>
[Collection(MariaDbFixture.Collection)]
public sealed class ReplicationSessionTests(MariaDbFixture fixture)
{
    private MariaDbServer Server => fixture.Server;

    [Fact]
    public async Task Connects_and_pings()
    {
        var settings = new MySqlConnectionStringBuilder(Server.ConnectionString());
        await using var session = await ReplicationSession.ConnectAsync(settings, CancellationToken.None).AsTask().DefaultTimeout();
        Assert.True(session.IsMariaDb);
        Assert.StartsWith("10.", session.ServerVersion, StringComparison.Ordinal);
        Assert.NotEqual(0u, session.ConnectionId);
        Assert.True((session.Capabilities & ProtocolCapabilities.Protocol41) != 0);
        await session.SendCommandAsync(new byte[] { 0x0E }, CancellationToken.None).AsTask().DefaultTimeout(); // COM_PING
        Assert.Equal(0x00, (await session.ReceivePayloadAsync(CancellationToken.None).AsTask().DefaultTimeout()).Span[0]);

        // Raw command through the contract the replication reader uses: COM_QUERY and an OK.
        await session.SendCommandAsync(ReplicationCommands.Query("DO 1"), CancellationToken.None);
        var payload = await session.ReceivePayloadAsync(CancellationToken.None);
        Assert.Equal(0x00, payload.Span[0]);
        Assert.False(session.IsBroken);
    }

    [Fact]
    public async Task Connects_with_a_database_and_reports_errors_as_ReplicationException()
    {
        var database = await Server.CreateDatabaseAsync("sess");
        var settings = new MySqlConnectionStringBuilder(Server.ConnectionString(database));
        await using var session = await ReplicationSession.ConnectAsync(settings, CancellationToken.None).AsTask().DefaultTimeout();
        Assert.Equal(database, session.Database);

        var exception = await Assert.ThrowsAsync<ReplicationException>(() => session.QueryAsync("SELECT * FROM no_such_table", CancellationToken.None)).DefaultTimeout();
        Assert.Equal(1146, exception.Number);
        Assert.Equal("42S02", exception.SqlState);
        Assert.Contains("no_such_table", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wrong_password_is_access_denied()
    {
        var settings = new MySqlConnectionStringBuilder(Server.ConnectionString()) { Password = "wrong" };
        var ex = await Assert.ThrowsAsync<ReplicationException>(() => ReplicationSession.ConnectAsync(settings, CancellationToken.None).AsTask()).DefaultTimeout();
        Assert.Equal(1045, ex.Number);
        Assert.Equal("28000", ex.SqlState);
    }

    [Fact]
    public async Task Connects_over_the_unix_socket()
    {
        var settings = new MySqlConnectionStringBuilder(Server.ConnectionString()) { Server = Server.SocketPath };
        await using var session = await ReplicationSession.ConnectAsync(settings, CancellationToken.None).AsTask().DefaultTimeout();
        var rows = await session.QueryAsync("SELECT 1", CancellationToken.None).DefaultTimeout();
        Assert.Equal("1", Assert.Single(rows)[0]);
    }

    [Fact]
    public async Task Large_payloads_are_split_and_joined()
    {
        var settings = new MySqlConnectionStringBuilder(Server.ConnectionString());
        await Server.SqlAsync("SET GLOBAL max_allowed_packet = 64*1024*1024;");
        await using var session = await ReplicationSession.ConnectAsync(settings, CancellationToken.None).AsTask().DefaultTimeout();

        // A 20 MiB statement goes out as two packets; the 20 MiB result row comes back as two joined packets.
        var text = new string('x', 20 * 1024 * 1024);
        await session.SendCommandAsync(ReplicationCommands.Query("SELECT '" + text + "'"), CancellationToken.None);
        var columnCount = await session.ReceivePayloadAsync(CancellationToken.None);
        Assert.Equal(1, columnCount.Span[0]);
        await session.ReceivePayloadAsync(CancellationToken.None); // column definition
        var row = await session.ReceivePayloadAsync(CancellationToken.None);
        Assert.True(row.Length > text.Length);
        var end = await session.ReceivePayloadAsync(CancellationToken.None);
        Assert.Equal(0xFE, end.Span[0]);
    }
}
