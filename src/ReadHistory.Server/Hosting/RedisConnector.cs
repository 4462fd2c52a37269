using StackExchange.Redis;

namespace ReadHistory.Server.Hosting;

/// <summary>
/// The process's one Redis connection (change streams, CDC lease), opened lazily with abortConnect=false so the
/// process starts while Redis is down and StackExchange.Redis reconnects by itself when it comes back.
/// </summary>
internal sealed class RedisConnector(ReadHistoryOptions options) : IDisposable
{
    private readonly Lazy<ConnectionMultiplexer> _connection = new(() =>
    {
        var configuration = ConfigurationOptions.Parse(options.Redis.Configuration);
        configuration.AbortOnConnectFail = false;
        return ConnectionMultiplexer.Connect(configuration);
    });

    /// <summary>The connection (created on first use).</summary>
    public IConnectionMultiplexer Connection => _connection.Value;

    /// <inheritdoc />
    public void Dispose()
    {
        if (_connection.IsValueCreated)
        {
            _connection.Value.Dispose();
        }
    }
}
