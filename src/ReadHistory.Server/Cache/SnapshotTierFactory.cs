using Microsoft.Extensions.Options;
using Prometheus;
using ReadHistory.Server.Cdc;
using ReadHistory.Server.Topology;

namespace ReadHistory.Server.Cache;

/// <summary>
/// Makes the cache's second tier when Cache:T2:Enabled (registered only with Redis): snapshots over the T2
/// connection, the catch-up over the node's slot stream, stamps from the tailer's <see cref="AppliedCursor"/>.
/// </summary>
internal sealed class SnapshotTierFactory(
    IOptions<CacheNodeOptions> cache,
    IOptions<RedisOptions> redis,
    IOptions<CdcOptions> cdc,
    NodePlacement placement,
    RedisConnector connector,
    AppliedCursor position,
    TimeProvider time,
    ILoggerFactory loggers,
    CollectorRegistry metrics)
{
    /// <summary>The tier, or null when T2 is off.</summary>
    public SnapshotTier? Create()
    {
        var options = cache.Value.T2;
        if (!options.Enabled)
        {
            return null;
        }

        var logger = loggers.CreateLogger("ReadHistory.Cache");
        var reader = new ChangeStreamReader(connector.Connection, blockingConnection: null, redis.Value, cdc.Value, placement.Pool, placement.Slot, time, logger);
        var store = new RedisSnapshotStore(connector.SnapshotConnection, redis.Value.KeyPrefix, placement.Pool, placement.Slot, reader);
        return new SnapshotTier(placement.Pool, options, store, position, time, logger, new SnapshotTierMetrics(placement.Pool, metrics));
    }
}
