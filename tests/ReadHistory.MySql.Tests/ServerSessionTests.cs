using ReadHistory.MySql.Protocol;
using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.MySql.Tests;

[Collection(MariaDbFixture.Collection)]
public sealed class ServerSessionTests(MariaDbFixture fixture)
{
    private MariaDbServer Server => fixture.Server;

    [Fact]
    public async Task Connects_and_pings()
    {
        var settings = new MySqlConnectionStringBuilder(Server.ConnectionString());
        await using var session = await ServerSession.ConnectAsync(settings, CancellationToken.None).AsTask().DefaultTimeout();
        Assert.True(session.IsMariaDb);
        Assert.StartsWith("10.", session.ServerVersion, StringComparison.Ordinal);
        Assert.NotEqual(0u, session.ConnectionId);
        Assert.True((session.Capabilities & ProtocolCapabilities.Protocol41) != 0);
        await session.PingAsync(CancellationToken.None).AsTask().DefaultTimeout();

        // Raw command through the contract the replication reader uses: COM_QUERY and an OK.
        await session.SendCommandAsync(Command("DO 1"), CancellationToken.None);
        var payload = await session.ReceivePayloadAsync(CancellationToken.None);
        Assert.Equal(0x00, payload.Span[0]);
        Assert.False(session.IsBroken);
    }

    [Fact]
    public async Task Connects_with_a_database_and_reports_errors_as_MySqlException()
    {
        var database = await Server.CreateDatabaseAsync("sess");
        var settings = new MySqlConnectionStringBuilder(Server.ConnectionString(database));
        await using var session = await ServerSession.ConnectAsync(settings, CancellationToken.None).AsTask().DefaultTimeout();
        Assert.Equal(database, session.Database);

        await session.SendCommandAsync(Command("SELECT * FROM no_such_table"), CancellationToken.None);
        var payload = await session.ReceivePayloadAsync(CancellationToken.None);
        var error = ErrorPayload.Create(payload.Span);
        var exception = error.ToException();
        Assert.Equal(MySqlErrorCode.NoSuchTable, exception.ErrorCode);
        Assert.Equal(1146, exception.Number);
        Assert.Equal("42S02", exception.SqlState);
        Assert.Contains("no_such_table", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wrong_password_is_access_denied()
    {
        var settings = new MySqlConnectionStringBuilder(Server.ConnectionString()) { Password = "wrong" };
        var ex = await Assert.ThrowsAsync<MySqlException>(() => ServerSession.ConnectAsync(settings, CancellationToken.None).AsTask()).DefaultTimeout();
        Assert.Equal(MySqlErrorCode.AccessDenied, ex.ErrorCode);
        Assert.Equal(1045, ex.Number);
        Assert.Equal("28000", ex.SqlState);
    }

    [Fact]
    public async Task Connects_over_the_unix_socket()
    {
        var settings = new MySqlConnectionStringBuilder(Server.ConnectionString()) { Server = Server.SocketPath };
        await using var session = await ServerSession.ConnectAsync(settings, CancellationToken.None).AsTask().DefaultTimeout();
        await session.PingAsync(CancellationToken.None).AsTask().DefaultTimeout();
    }

    [Fact]
    public async Task Large_payloads_are_split_and_joined()
    {
        var settings = new MySqlConnectionStringBuilder(Server.ConnectionString());
        await Server.SqlAsync("SET GLOBAL max_allowed_packet = 64*1024*1024;");
        await using var session = await ServerSession.ConnectAsync(settings, CancellationToken.None).AsTask().DefaultTimeout();

        // A 20 MiB statement goes out as two packets; the 20 MiB result row comes back as two joined packets.
        var text = new string('x', 20 * 1024 * 1024);
        await session.SendCommandAsync(Command("SELECT '" + text + "'"), CancellationToken.None);
        var columnCount = await session.ReceivePayloadAsync(CancellationToken.None);
        Assert.Equal(1, columnCount.Span[0]);
        await session.ReceivePayloadAsync(CancellationToken.None); // column definition
        var row = await session.ReceivePayloadAsync(CancellationToken.None);
        Assert.True(row.Length > text.Length);
        var end = await session.ReceivePayloadAsync(CancellationToken.None);
        Assert.Equal(0xFE, end.Span[0]);
    }

    private static byte[] Command(string sql)
    {
        var bytes = new byte[1 + System.Text.Encoding.UTF8.GetByteCount(sql)];
        bytes[0] = CommandKind.Query;
        System.Text.Encoding.UTF8.GetBytes(sql, bytes.AsSpan(1));
        return bytes;
    }
}
