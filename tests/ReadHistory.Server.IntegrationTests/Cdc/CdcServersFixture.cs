using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.Server.IntegrationTests.Cdc;

/// <summary>A MariaDB (ROW binlog with GTIDs) and a Redis shared by the CDC tests; each test uses its own database prefix and key prefix.</summary>
public sealed class CdcServersFixture : IAsyncLifetime
{
    /// <summary>The collection name.</summary>
    public const string Collection = "cdc-servers";

    private MariaDbServer? _mariaDb;
    private RedisServer? _redis;

    public MariaDbServer MariaDb => _mariaDb ?? throw new InvalidOperationException("the fixture has not started");

    public RedisServer Redis => _redis ?? throw new InvalidOperationException("the fixture has not started");

    public async Task InitializeAsync()
    {
        var mariaDb = MariaDbServer.StartAsync();
        var redis = RedisServer.StartAsync();
        _mariaDb = await mariaDb;
        _redis = await redis;
    }

    public async Task DisposeAsync()
    {
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }

        if (_mariaDb is not null)
        {
            await _mariaDb.DisposeAsync();
        }
    }
}

/// <summary>The collection of tests that need both servers.</summary>
[CollectionDefinition(CdcServersFixture.Collection)]
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1711", Justification = "xunit's collection-definition naming")]
public sealed class CdcServersCollection : ICollectionFixture<CdcServersFixture>;
