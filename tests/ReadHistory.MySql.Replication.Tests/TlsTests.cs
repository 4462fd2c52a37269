using MySqlConnector;
using ReadHistory.MySql.Replication.Protocol;
using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.MySql.Replication.Tests;

/// <summary>The replication client's TLS (the SslMode and SslCa keys of the connection string).</summary>
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
        await using var session = await ReplicationSession.ConnectAsync(new MySqlConnectionStringBuilder(cs), CancellationToken.None).AsTask().DefaultTimeout();
        Assert.True(session.IsTls);
        var rows = await session.QueryAsync("SHOW SESSION STATUS LIKE 'Ssl_cipher'", CancellationToken.None).DefaultTimeout();
        Assert.NotEqual(string.Empty, Assert.Single(rows)[1]);
    }

    [Fact]
    public async Task VerifyCA_rejects_a_certificate_from_another_CA()
    {
        var otherCa = Path.Combine(Path.GetTempPath(), "readhistory-other-ca-" + Guid.NewGuid().ToString("N") + ".pem");
        try
        {
            await ChildProcess.RunAsync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=other-ca", "-keyout", otherCa + ".key", "-out", otherCa]);
            var cs = Server.ConnectionString(extra: $"SslMode=VerifyCA;SslCa={otherCa};Pooling=false");
            var ex = await Assert.ThrowsAsync<ReplicationConnectionException>(() => ReplicationSession.ConnectAsync(new MySqlConnectionStringBuilder(cs), CancellationToken.None).AsTask()).DefaultTimeout();
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
        await using var session = await ReplicationSession.ConnectAsync(builder, CancellationToken.None).AsTask().DefaultTimeout();
        Assert.False(session.IsTls);
        var rows = await session.QueryAsync("SELECT 1", CancellationToken.None).DefaultTimeout();
        Assert.Single(rows);
    }
}
