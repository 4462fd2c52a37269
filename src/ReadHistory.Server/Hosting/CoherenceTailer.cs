using System.Diagnostics.Metrics;
using ReadHistory.Server.Cache;
using ReadHistory.Server.Cdc;

namespace ReadHistory.Server.Hosting;

/// <summary>
/// Keeps a cache node coherent: tails its slot's change stream and sets bits in place for the users it holds
/// (users it does not hold are ignored; a delete drops the user). Until it has a cursor the node cannot prove
/// that a filter it rebuilt holds every committed row, so it reports "coherence" not ready and, once the cursor
/// is taken, drops whatever it built before; a gap in the stream (new epoch, trimmed past the cursor) drops
/// everything the same way. Dropped users are rebuilt from the database on their next miss.
/// </summary>
internal sealed class CoherenceTailer(ReadHistoryOptions options, CacheNodeHost node, RedisConnector redis, TimeProvider time, ILoggerFactory loggers, IMeterFactory meters) : BackgroundService
{
    private static readonly double[] LagBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
    private readonly ILogger _logger = loggers.CreateLogger("ReadHistory.Coherence");
    private readonly Meter _meter = meters.Create("ReadHistory.Coherence");
    private volatile bool _tailing;

    /// <summary>The slot this node tails.</summary>
    public int Slot { get; } = options.Cache.SlotOf(options.NodeName);

    /// <summary>Registers the readiness check "coherence".</summary>
    public void RegisterReadiness(Readiness readiness) =>
        readiness.Register("coherence", _ => ValueTask.FromResult(_tailing));

    /// <inheritdoc />
    public override void Dispose()
    {
        _meter.Dispose();
        base.Dispose();
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var pool = new KeyValuePair<string, object?>("pool", options.Cache.Pool);
        var lag = _meter.CreateHistogram<double>("readhistory_coherence_lag_seconds", unit: "s", description: "Commit in the database to change applied on this replica.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LagBuckets });
        var gaps = _meter.CreateCounter<long>("readhistory_coherence_gaps_total", description: "Times the change stream could not prove continuity and every filter was dropped.");
        var applied = _meter.CreateCounter<long>("readhistory_coherence_changes_total", description: "Changes read from the slot's stream (applied or ignored).");

        var cache = await WaitForCacheAsync(stoppingToken).ConfigureAwait(false);
        var reader = new ChangeStreamReader(redis.Connection, options.Redis, options.Cdc, options.Cache.Pool, Slot, time, _logger);
        var cursor = await TakeCursorAsync(reader, stoppingToken).ConfigureAwait(false);
        cache.DropAll();
        _tailing = true;
        Log.CoherenceTailing(_logger, reader.StreamKey, cursor);

        await foreach (var update in reader.TailAsync(cursor, stoppingToken).ConfigureAwait(false))
        {
            if (update.IsGap)
            {
                var dropped = cache.DropAll();
                gaps.Add(1, pool);
                Log.CoherenceGap(_logger, reader.StreamKey, update.GapReason!, dropped);
                continue;
            }

            var batch = update.Batch!;
            for (var i = 0; i < batch.Count; i++)
            {
                var change = batch[i];
                cache.ApplyChange(change.UserId, change.ContentType, change.ContentId, change.Kind == StreamChangeKind.Upsert ? ChangeKind.Insert : ChangeKind.DeleteUser);
            }

            applied.Add(batch.Count, pool);
            if (batch.Count > 0)
            {
                lag.Record(Math.Max(0, time.GetUtcNow().ToUnixTimeMilliseconds() - batch.CommitTimeMs) / 1000.0, pool);
            }
        }
    }

    private async Task<ReadThroughCache> WaitForCacheAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(50), time);
        while (true)
        {
            if (node.Current is { } cache)
            {
                return cache;
            }

            await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false);
        }
    }

    private async Task<StreamCursor> TakeCursorAsync(ChangeStreamReader reader, CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            try
            {
                return await reader.GetTailCursorAsync().WaitAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is StackExchange.Redis.RedisException or TimeoutException)
            {
                Log.CoherenceUnreachable(_logger, delay.TotalSeconds, e);
                await Task.Delay(delay, time, stoppingToken).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }
}
