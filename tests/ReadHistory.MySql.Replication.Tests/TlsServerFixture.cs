using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.MySql.Replication.Tests;

/// <summary>A MariaDB of its own with TLS on (a fresh CA and server certificate).</summary>
public sealed class TlsServerFixture : IAsyncLifetime
{
    public MariaDbServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await MariaDbServer.StartAsync(new MariaDbServerOptions { Tls = true, RocksDb = false, Binlog = false });

    public async Task DisposeAsync() => await Server.DisposeAsync();
}
