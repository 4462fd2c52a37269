using Xunit;

namespace ReadHistory.TestSupport;

/// <summary>
/// One MariaDB server shared by every test of a collection (xunit collection fixture). Each test makes its own
/// database with <see cref="MariaDbServer.CreateDatabaseAsync"/>. A test assembly declares
/// <c>[CollectionDefinition(MariaDbFixture.Collection)] public sealed class MariaDbCollection : ICollectionFixture&lt;MariaDbFixture&gt;;</c>.
/// </summary>
public sealed class MariaDbFixture : IAsyncLifetime
{
    /// <summary>The collection name tests use in <c>[Collection(...)]</c>.</summary>
    public const string Collection = "mariadb";

    private MariaDbServer? _server;

    /// <summary>The running server.</summary>
    public MariaDbServer Server => _server ?? throw new InvalidOperationException("the fixture has not started");

    /// <inheritdoc />
    public async Task InitializeAsync() => _server = await MariaDbServer.StartAsync();

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

/// <summary>One Redis server shared by a collection of tests; each test uses its own key prefix or database number.</summary>
public sealed class RedisFixture : IAsyncLifetime
{
    /// <summary>The collection name tests use in <c>[Collection(...)]</c>.</summary>
    public const string Collection = "redis";

    private RedisServer? _server;

    /// <summary>The running server.</summary>
    public RedisServer Server => _server ?? throw new InvalidOperationException("the fixture has not started");

    /// <inheritdoc />
    public async Task InitializeAsync() => _server = await RedisServer.StartAsync();

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
