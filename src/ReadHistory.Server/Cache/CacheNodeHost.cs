using Microsoft.Extensions.Options;
using Prometheus;
using ReadHistory.Server.Storage;

namespace ReadHistory.Server.Cache;

/// <summary>
/// The cache role's T1 cache: created once the database is open (its misses and rebuilds read the database), so the
/// node starts, and reports not ready, while the database is down. Owns the <see cref="ReadThroughCache"/>, whose
/// committed changes also go to <paramref name="peers"/> (the peer fan-out; none when not registered), with the second
/// tier <paramref name="snapshotTiers"/> makes (none without Redis, or when Cache:T2 is off).
/// </summary>
internal sealed class CacheNodeHost(
    IOptions<CacheNodeOptions> options,
    DatabaseConnector database,
    TimeProvider time,
    ILoggerFactory loggers,
    CollectorRegistry metrics,
    NodeFreshness? freshness = null,
    CommittedChangeSink? peers = null,
    SnapshotTierFactory? snapshotTiers = null) : BackgroundService
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(50);
    private volatile ReadThroughCache? _cache;

    /// <summary>The cache, or null until the database has been reached.</summary>
    public ReadThroughCache? Current => _cache;

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        if (_cache is { } cache)
        {
            await cache.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Poll, time);
        while (database.Current is null && await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
        }

        if (database.Current is { } open)
        {
            var source = new StorageHistorySource(open.Store, open.Writer);
            _cache = new ReadThroughCache(options.Value.ToCacheOptions(), source, time, loggers.CreateLogger("ReadHistory.Cache"), metrics, snapshotTiers?.Create())
            {
                Freshness = freshness ?? NodeFreshness.AlwaysFresh,
                Peers = peers ?? CommittedChangeSink.None,
            };
        }
    }
}
