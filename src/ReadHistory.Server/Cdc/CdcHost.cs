using Microsoft.Extensions.Options;
using Prometheus;
using ReadHistory.Server.Storage;
using ReadHistory.Server.Topology;

namespace ReadHistory.Server.Cdc;

/// <summary>The CDC role: one <see cref="CdcPublisher"/> (leader by lease in Redis, or a standby) for the process's lifetime.</summary>
internal sealed class CdcHost(IOptions<CdcOptions> cdc, IOptions<DatabaseOptions> database, IOptions<TopologyOptions> topology, IOptions<RedisOptions> redisOptions, RedisConnector redis, TimeProvider time, ILoggerFactory loggers, CollectorRegistry metrics) : IHostedService, IAsyncDisposable
{
    private CdcPublisher? _publisher;

    /// <summary>The publisher once started.</summary>
    public CdcPublisher? Publisher => _publisher;

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _publisher = new CdcPublisher(cdc.Value, database.Value, topology.Value, redisOptions.Value, redis.Connection, time, loggers.CreateLogger("ReadHistory.Cdc"), new CdcMetrics(metrics));
        return _publisher.StartAsync(cancellationToken);
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) =>
        _publisher?.StopAsync(cancellationToken) ?? Task.CompletedTask;

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_publisher is not null)
        {
            await _publisher.DisposeAsync().ConfigureAwait(false);
        }
    }
}
