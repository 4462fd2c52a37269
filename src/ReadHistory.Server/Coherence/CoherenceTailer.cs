using Microsoft.Extensions.Options;
using Prometheus;
using ReadHistory.Server.Cache;
using ReadHistory.Server.Cdc;
using ReadHistory.Server.Tls;
using ReadHistory.Server.Topology;

namespace ReadHistory.Server.Coherence;

/// <summary>
/// Keeps a cache node coherent: tails its slot's change stream and sets bits in place for the users it holds
/// (users it does not hold are ignored; a delete drops the user). A starting node first tries a warm start from a
/// serving peer of its slot (see <c>CoherenceTailer.WarmStart.cs</c>) and tails from the peer's cursor; otherwise
/// (cold) it takes the stream's tail as its cursor and drops whatever it built before, since it cannot prove such
/// filters hold every committed row. A gap in the stream (new epoch, trimmed past the cursor) drops everything the
/// same way. Dropped users are rebuilt from the database on their next miss. Until it tails (and, after a warm start,
/// has replayed the stream up to where it was when the copy ended) it reports "coherence" not ready.
/// </summary>
internal sealed partial class CoherenceTailer(
    IOptions<CacheNodeOptions> cacheOptions,
    IOptions<CdcOptions> cdcOptions,
    IOptions<RedisOptions> redisOptions,
    IOptions<TopologyOptions> topology,
    NodePlacement placement,
    CacheNodeHost node,
    RedisConnector redis,
    TimeProvider time,
    ILoggerFactory loggers,
    CollectorRegistry metrics,
    NodeFreshness freshness,
    InternalTls tls,
    AppliedCursor position) : BackgroundService
{
    private static readonly double[] LagBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
    private readonly ILogger _logger = loggers.CreateLogger("ReadHistory.Coherence");

    // The pool's children, made with the tailer so they are exported (as 0) before the stream is tailed.
    private readonly Histogram.Child _lag = Metrics.WithCustomRegistry(metrics)
        .CreateHistogram("readhistory_coherence_lag_seconds", "Commit in the database to change applied on this replica.", new HistogramConfiguration { LabelNames = ["pool"], Buckets = LagBuckets })
        .WithLabels(placement.Pool);

    private readonly Counter.Child _gaps = Metrics.WithCustomRegistry(metrics)
        .CreateCounter("readhistory_coherence_gaps_total", "Times the change stream could not prove continuity and every filter was dropped.", "pool")
        .WithLabels(placement.Pool);

    private readonly Counter.Child _changes = Metrics.WithCustomRegistry(metrics)
        .CreateCounter("readhistory_coherence_changes_total", "Changes read from the slot's stream (applied or ignored).", "pool")
        .WithLabels(placement.Pool);

    private readonly Gauge.Child _staleness = ObserveStaleness(metrics, placement.Pool, freshness);

    // Owned here, not by each attempt's WarmStarter, so the warm-start counters stay exported for the node's lifetime.
    private readonly WarmStartMetrics _warmStartMetrics = new(placement.Pool, metrics);
    private readonly long _started = time.GetTimestamp();
    private volatile bool _tailing;
    private volatile Applied? _applied;

    /// <summary>The slot this node tails.</summary>
    public int Slot => placement.Slot;

    /// <summary>
    /// The cursor a Snapshot of this node carries: the position of the last change applied to its filters (published
    /// after the change's bits are set), empty until the node tails its stream.
    /// </summary>
    public SnapshotCursorSource Cursors => new AppliedCursorSource(this);

    /// <inheritdoc />
    public override void Dispose()
    {
        _warmStartMetrics.Dispose();
        base.Dispose();
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var cache = await WaitForCacheAsync(stoppingToken).ConfigureAwait(false);
        var reader = new ChangeStreamReader(redis.Connection, redis.TailConnection, redisOptions.Value, cdcOptions.Value, placement.Pool, Slot, time, _logger);
        StreamCursor cursor;
        StreamCursor? catchUpTo = null;
        if (await WarmStartAsync(cache, reader, stoppingToken).ConfigureAwait(false) is { } warm)
        {
            // The copied filters hold every change up to the peer's cursor; replaying from there covers the rest.
            (cursor, catchUpTo) = warm;
            Log.CoherenceReplaying(_logger, reader.StreamKey, cursor, warm.Tail);
        }
        else
        {
            cursor = await TakeCursorAsync(reader, stoppingToken).ConfigureAwait(false);
            cache.DropAll();
        }

        Publish(cursor);
        _tailing = catchUpTo is null || StreamCursor.CompareIds(cursor.EntryId, catchUpTo.Value.EntryId) >= 0;
        Log.CoherenceTailing(_logger, reader.StreamKey, cursor);

        await foreach (var update in reader.TailAsync(cursor, stoppingToken).ConfigureAwait(false))
        {
            if (update.IsGap)
            {
                var dropped = cache.DropAll();
                Publish(update.Cursor);
                _tailing = true;
                _gaps.Inc();
                Log.CoherenceGap(_logger, reader.StreamKey, update.GapReason!, dropped);
                continue;
            }

            var batch = update.Batch!;
            for (var i = 0; i < batch.Count; i++)
            {
                var change = batch[i];
                cache.ApplyChange(change.UserId, change.ContentType, change.ContentId, change.Kind == StreamChangeKind.Upsert ? ChangeKind.Insert : ChangeKind.DeleteUser);
            }

            // Published only now: a Snapshot reading this cursor then copies filters holding every change up to it.
            Publish(update.Cursor);
            if (!_tailing && StreamCursor.CompareIds(update.Cursor.EntryId, catchUpTo!.Value.EntryId) >= 0)
            {
                _tailing = true;
                Log.CoherenceCaughtUp(_logger, reader.StreamKey, update.Cursor);
            }

            // A batch's stamp (its oldest transaction's commit time) or a heartbeat's: every row committed before it
            // is now applied. Entries left over from another epoch were not applied and prove nothing.
            if (batch.Epoch == update.Cursor.Epoch)
            {
                freshness.Observe(batch.CommitTimeMs);
            }

            _changes.Inc(batch.Count);
            if (batch.Count > 0)
            {
                _lag.Observe(Math.Max(0, time.GetUtcNow().ToUnixTimeMilliseconds() - batch.CommitTimeMs) / 1000.0);
            }
        }
    }

    /// <summary>
    /// The readiness check "coherence": ready once tailing (caught up after a warm start), or anyway once the warm-start
    /// bound has passed since start.
    /// </summary>
    public bool IsReady => _tailing || (_applied is not null && time.GetElapsedTime(_started) >= cacheOptions.Value.WarmStartTimeout);

    /// <summary>How stale this node is now (see <see cref="NodeFreshness"/>).</summary>
    public NodeFreshness Freshness => freshness;

    // Both after the changes up to the cursor are applied: Snapshots and the second tier's stamps read them.
    private void Publish(StreamCursor cursor)
    {
        _applied = new Applied(cursor);
        position.Publish(cursor);
    }

    // The gauge is set from the freshness at each scrape: staleness grows with time, not with events.
    private static Gauge.Child ObserveStaleness(CollectorRegistry metrics, string pool, NodeFreshness freshness)
    {
        var gauge = Metrics.WithCustomRegistry(metrics)
            .CreateGauge("readhistory_coherence_staleness_seconds", "Now minus the newest change-stream stamp (batch or CDC heartbeat) applied on this replica; +Inf until the first.", "pool")
            .WithLabels(pool);
        gauge.Set(freshness.StalenessSeconds);
        metrics.AddBeforeCollectCallback(() => gauge.Set(freshness.StalenessSeconds));
        return gauge;
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

    /// <summary>The last position applied, encoded once for every Snapshot that reads it.</summary>
    private sealed class Applied(StreamCursor cursor)
    {
        private byte[]? _encoded;

        public StreamCursor Cursor { get; } = cursor;

        public byte[] Encoded => _encoded ??= SnapshotCursor.Encode(Cursor);
    }

    private sealed class AppliedCursorSource(CoherenceTailer tailer) : SnapshotCursorSource
    {
        public override ReadOnlyMemory<byte> Current => tailer._applied is { } applied ? applied.Encoded : ReadOnlyMemory<byte>.Empty;
    }
}
