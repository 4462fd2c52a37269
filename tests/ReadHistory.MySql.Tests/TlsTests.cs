using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.MySql.Tests;

/// <summary>A MariaDB of its own with TLS on (a fresh CA and server certificate).</summary>
public sealed class TlsServerFixture : IAsyncLifetime
{
    public MariaDbServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await MariaDbServer.StartAsync(new MariaDbServerOptions { Tls = true, RocksDb = false, Binlog = false });

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

public sealed class TlsTests(TlsServerFixture fixture) : IClassFixture<TlsServerFixture>
{
    private MariaDbServer Server => fixture.Server;

    [Theory]
    [InlineData("SslMode=Required")]
    [InlineData("SslMode=Preferred")]
    [InlineData("SslMode=VerifyCA;SslCa={ca}")]
    [InlineData("SslMode=VerifyFull;SslCa={ca}")]
    public async Task Connects_with_TLS(string options)
    {
        var cs = Server.ConnectionString(extra: options.Replace("{ca}", Server.CaCertificatePath, StringComparison.Ordinal) + ";Pooling=false");
        await using var connection = await TestDatabase.OpenAsync(cs);
        Assert.True(connection.Session!.IsTls);
        await using var command = new MySqlCommand("SHOW SESSION STATUS LIKE 'Ssl_cipher'", connection);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.NotEqual(string.Empty, reader.GetString(1));
    }

    [Fact]
    public async Task VerifyCA_rejects_a_certificate_from_another_CA()
    {
        var otherCa = Path.Combine(Path.GetTempPath(), "readhistory-other-ca-" + Guid.NewGuid().ToString("N") + ".pem");
        try
        {
            await ChildProcess.RunAsync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=other-ca", "-keyout", otherCa + ".key", "-out", otherCa]);
            var cs = Server.ConnectionString(extra: $"SslMode=VerifyCA;SslCa={otherCa};Pooling=false");
            var ex = await Assert.ThrowsAsync<MySqlConnectionException>(() => TestDatabase.OpenAsync(cs));
            Assert.Contains("TLS", ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(otherCa);
            File.Delete(otherCa + ".key");
        }
    }

    [Fact]
    public async Task Unix_socket_connects_without_TLS()
    {
        var cs = Server.ConnectionString(extra: "Pooling=false");
        var builder = new MySqlConnectionStringBuilder(cs) { Server = Server.SocketPath };
        await using var connection = await TestDatabase.OpenAsync(builder.ConnectionString);
        Assert.False(connection.Session!.IsTls);
        await using var command = new MySqlCommand("SELECT 1", connection);
        Assert.NotNull(await command.ExecuteScalarAsync());
    }
}
