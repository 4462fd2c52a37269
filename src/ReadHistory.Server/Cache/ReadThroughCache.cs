using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Prometheus;
using ReadHistory.Core.Caching;
using ReadHistory.Core.Filters;
using ReadHistory.Server.Storage;

namespace ReadHistory.Server.Cache;

/// <summary>
/// A cache node's logic for one pool: read-through checks (hit → the filter; miss → a blocking point query for just the
/// requested ids, plus one asynchronous single-flight rebuild of the user), write-through MarkRead (commit, then set
/// bits, then acknowledge), Forget (delete, then drop), and <see cref="ApplyChange"/> for the coherence stream.
/// </summary>
/// <remarks>
/// No false negatives: a change reaches the filter before it is acknowledged (or, for the stream, after its commit),
/// and a change for a user under rebuild is buffered and applied under the rebuild's lock just before the install.
/// A writer looks for a rebuild first and for the filter second; a rebuild registered after that first look scans a
/// snapshot taken after the write committed, so it holds the write itself.
/// </remarks>
internal sealed partial class ReadThroughCache : IAsyncDisposable
{
    private readonly CacheOptions _options;
    private readonly IHistorySource _source;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<ulong, UserRebuild> _rebuilds = new();
    private readonly SemaphoreSlim _rebuildSlots;
    private readonly RebuildThrottle _throttle;
    private readonly CancellationTokenSource _stopping = new();
    private readonly FalsePositiveVerifier? _verifier;
    private readonly SnapshotTier? _tier;
    private long _bufferedChanges;
    private long _changesBuffered;

    /// <summary>
    /// Creates the node logic of one pool over a history source (the storage adapter, or a test double); its series go
    /// to <paramref name="metrics"/> (the host's registry; null: a registry of its own that nobody scrapes). With
    /// <paramref name="snapshotTier"/> (T2), misses try the user's snapshot first and evicted filters are written back;
    /// the cache owns the tier from then on.
    /// </summary>
    public ReadThroughCache(CacheOptions options, IHistorySource source, TimeProvider time, ILogger logger, CollectorRegistry? metrics = null, SnapshotTier? snapshotTier = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        options.Validate();
        _options = options;
        _source = source;
        _time = time;
        _logger = logger;
        _rebuildSlots = new SemaphoreSlim(options.RebuildConcurrency, options.RebuildConcurrency);
        _throttle = new RebuildThrottle(options.RebuildRowsPerSecond, time);
        Filters = new FilterTable(options.BudgetBytes, options.Filter);
        Metrics = new CacheMetrics(options.Pool, Filters, () => Interlocked.Read(ref _bufferedChanges), () => _throttle.WaitedSeconds, metrics);
        if (options.Verifier is { } verifier)
        {
            _verifier = new FalsePositiveVerifier(options.Pool, options.Filter.TargetFalsePositiveRate, verifier, source, user => Filters.TryGet(user, out var held) && held.HasFilter, logger, metrics ?? Prometheus.Metrics.NewCustomRegistry());
        }

        _tier = snapshotTier;
        if (snapshotTier is not null)
        {
            Filters.Evicting = WriteBackEvicted;
            StartRefresh();
        }
    }

    /// <summary>The pool's settings.</summary>
    public CacheOptions Options => _options;

    /// <summary>
    /// Where committed writes and Forgets are also sent: the other replicas of the node's slot (none by default). A
    /// passthrough write is not sent (the node stands in for another slot, whose replicas it is not a peer of).
    /// </summary>
    public CommittedChangeSink Peers { get; init; } = CommittedChangeSink.None;

    /// <summary>The pool's filters (T1).</summary>
    public FilterTable Filters { get; }

    /// <summary>The pool's series.</summary>
    public CacheMetrics Metrics { get; }

    /// <summary>The pool's false-positive verifier (null when <see cref="CacheOptions.Verifier"/> is not set).</summary>
    public FalsePositiveVerifier? Verifier => _verifier;

    /// <summary>Whether this node's filters may lag the stream past its bound (answers from memory then say so).</summary>
    public NodeFreshness Freshness { get; init; } = NodeFreshness.AlwaysFresh;

    /// <summary>Rebuilds registered and not yet finished (running, queued for a slot, or waiting to retry).</summary>
    public int RebuildsInFlight => _rebuilds.Count;

    /// <summary>Changes buffered now for users under rebuild.</summary>
    public long BufferedChanges => Interlocked.Read(ref _bufferedChanges);

    /// <summary>Changes ever buffered for a user under rebuild (each later applied at install, or dropped with an abandoned rebuild).</summary>
    public long ChangesBufferedTotal => Interlocked.Read(ref _changesBuffered);

    /// <summary>The pool's figures (for the internal Stats call).</summary>
    public PoolStatistics Stats() => new(
        _options.Pool,
        Filters.Users,
        Filters.Bytes,
        Filters.BudgetBytes,
        Metrics.Hits,
        Metrics.Misses,
        Filters.Evictions,
        RebuildsInFlight,
        Filters.CappedUsers,
        Filters.EstimateFalsePositiveRate(),
        _verifier?.MeasuredRate ?? 0,
        _verifier?.Negatives ?? 0);

    /// <summary>
    /// Checks ids of one user and type into <paramref name="readBitmap"/> (bit i set = ids[i] possibly read; the API's
    /// read_bitmap, at least ceil(n / 8) bytes). A hit completes synchronously, touches no database and allocates
    /// nothing. <paramref name="passthrough"/>: answer from the database, hold and start nothing.
    /// </summary>
    public ValueTask<CheckResult> CheckAsync(ulong userId, ushort contentType, ReadOnlyMemory<ulong> contentIds, Memory<byte> readBitmap, bool passthrough, CancellationToken cancellationToken)
    {
        if (passthrough)
        {
            Metrics.LookupPassthrough();
            return PointQueryAsync(userId, contentType, contentIds, readBitmap, CheckSource.Passthrough, cancellationToken);
        }

        if (Filters.TryGet(userId, out var entry))
        {
            if (entry.HasFilter)
            {
                Metrics.LookupHit();
                var unread = entry.CheckMany(contentType, contentIds.Span, readBitmap.Span);
                _verifier?.Offer(userId, contentType, contentIds.Span, readBitmap.Span);
                return new ValueTask<CheckResult>(new CheckResult(unread, Freshness.IsStale ? CheckSource.MemoryStale : CheckSource.Memory));
            }

            Metrics.LookupCapped();
            return PointQueryAsync(userId, contentType, contentIds, readBitmap, CheckSource.Database, cancellationToken);
        }

        Metrics.LookupMiss();
        var rebuild = StartRebuild(userId);
        if (rebuild?.SnapshotLoad is { } load && (!load.Task.IsCompleted || load.Task.Result))
        {
            return MissThroughSnapshotAsync(rebuild, userId, contentType, contentIds, readBitmap, cancellationToken);
        }

        return PointQueryAsync(userId, contentType, contentIds, readBitmap, CheckSource.Database, cancellationToken);
    }

    /// <summary>
    /// Records reads: commits them through group commit, then sets their bits in the user's filter if held (or in the
    /// buffer of its rebuild), then completes. <paramref name="passthrough"/>: commit only. Cancelling stops the
    /// caller's wait only: once queued, the rows commit and their bits are set all the same, so
    /// <paramref name="items"/> must stay unchanged until the write is applied (the API hands over an array of its own).
    /// </summary>
    public Task MarkReadAsync(ulong userId, ushort contentType, ReadOnlyMemory<StoredRead> items, bool passthrough, CancellationToken cancellationToken) =>
        MarkReadAsync(userId, contentType, items, passthrough, untilPeersApplied: false, cancellationToken);

    /// <summary>
    /// As <see cref="MarkReadAsync(ulong, ushort, ReadOnlyMemory{StoredRead}, bool, CancellationToken)"/>; with
    /// <paramref name="untilPeersApplied"/> the write completes only once every peer replica that is not failing applied
    /// it (not after the fan-out's wait bound): a proxy asks so when it moved the write off the session's own replica,
    /// which must hold it before the session's next read reaches it.
    /// </summary>
    public Task MarkReadAsync(ulong userId, ushort contentType, ReadOnlyMemory<StoredRead> items, bool passthrough, bool untilPeersApplied, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled(cancellationToken);
        }

        var applied = CommitThenApplyAsync(userId, contentType, items, passthrough, untilPeersApplied);
        return cancellationToken.CanBeCanceled && !applied.IsCompleted ? WaitAsync(applied, cancellationToken) : applied;
    }

    // The caller's token does not reach the write: group commit would commit rows already queued anyway, and a
    // continuation that gave up with the caller would leave a committed row out of the filter (a false negative
    // until the change stream brings it, forever when there is none).
    private async Task CommitThenApplyAsync(ulong userId, ushort contentType, ReadOnlyMemory<StoredRead> items, bool passthrough, bool untilPeersApplied)
    {
        await _source.WriteAsync(userId, contentType, items, CancellationToken.None).ConfigureAwait(false);
        if (!passthrough)
        {
            // Queued to the peers first, so that their calls travel while the local bits are set.
            var peers = Peers.PublishInsertsAsync(userId, contentType, items.Span, untilPeersApplied);
            ApplyInserts(userId, contentType, items.Span);

            // Inline rather than through WaitForPeersAsync: no second state machine on the write path.
            if (peers.IsCompleted)
            {
                Peers.ObserveWait(TimeSpan.Zero);
                return;
            }

            var started = _time.GetTimestamp();
            await peers.ConfigureAwait(false);
            Peers.ObserveWait(_time.GetElapsedTime(started));
        }
    }

    // Bounded by the sink (its wait bound, peers in backoff not waited for); never throws.
    private async ValueTask WaitForPeersAsync(ValueTask peers)
    {
        if (peers.IsCompleted)
        {
            Peers.ObserveWait(TimeSpan.Zero);
            return;
        }

        var started = _time.GetTimestamp();
        await peers.ConfigureAwait(false);
        Peers.ObserveWait(_time.GetElapsedTime(started));
    }

    private static async Task WaitAsync(Task applied, CancellationToken cancellationToken)
    {
        try
        {
            await applied.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Nobody waits for the write any more: observe its failure (the writer has logged it) so that it is not
            // reported as an unobserved task exception.
            _ = applied.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            throw;
        }
    }

    /// <summary>
    /// Deletes the user's T2 snapshot (with T2), then the user's history from the database, then drops the filter and
    /// any rebuild; returns the rows removed.
    /// The drop happens however the delete ends: a cancelled or failed delete may have removed some chunks already,
    /// and a filter still holding their bits would answer read for rows that are gone (dropping is always safe: the
    /// next miss rebuilds from what the database holds).
    /// </summary>
    public async Task<long> ForgetAsync(ulong userId, bool passthrough, CancellationToken cancellationToken)
    {
        if (_tier is not null)
        {
            // First: a snapshot deleted after the rows could be loaded in between, holding them.
            await _tier.DeleteAsync(userId).ConfigureAwait(false);
        }

        try
        {
            return await _source.ForgetAsync(userId, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (!passthrough)
            {
                var peers = Peers.PublishDeleteUserAsync(userId);
                DropUser(userId);
                await WaitForPeersAsync(peers).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Drops every filter and abandons every rebuild in flight, when their coherence can no longer be proven (a gap
    /// in the change stream); the users are rebuilt from the database on their next miss. Returns the filters dropped.
    /// </summary>
    public int DropAll()
    {
        foreach (var userId in _rebuilds.Keys)
        {
            DropUser(userId);
        }

        var held = Filters.RankHottestFirst();
        foreach (var entry in held)
        {
            DropUser(entry.UserId);
        }

        return held.Length;
    }

    /// <summary>
    /// Applies one committed change (from the coherence stream): an insert sets bits in the user's filter if held, or
    /// in its rebuild's buffer; a delete drops the user. Users neither held nor rebuilding are ignored: their next
    /// rebuild reads the database.
    /// </summary>
    public void ApplyChange(ulong userId, ushort contentType, ulong contentId, ChangeKind kind)
    {
        if (kind == ChangeKind.DeleteUser)
        {
            DropUser(userId);
            return;
        }

        if (TryBuffer(userId, contentType, contentId))
        {
            return;
        }

        if (Filters.TryGet(userId, out var entry))
        {
            Filters.Add(entry, contentType, contentId);
        }
    }

    /// <summary>
    /// Installs a filter copied from a peer by warm start, within the budget and without evicting (see
    /// <see cref="FilterTable.TryInstallWarm"/>). A user being rebuilt is skipped: its rebuild reads the database and
    /// installs with its buffered changes, which is at least as fresh.
    /// </summary>
    public WarmStartInstallOutcome InstallWarm(ulong userId, UserFilter filter) =>
        _rebuilds.ContainsKey(userId) ? WarmStartInstallOutcome.Skipped : Filters.TryInstallWarm(userId, filter);

    /// <summary>
    /// Explains the answer for one id of one user: the filter's (and which layer gave it) if the user is held, the
    /// database's (low-priority pool), and the user's figures. Touches nothing: no rebuild starts, nothing is charged.
    /// </summary>
    public async Task<Explanation> ExplainAsync(ulong userId, ushort contentType, ulong contentId, CancellationToken cancellationToken)
    {
        var held = Filters.TryGet(userId, out var entry);
        var filter = held && entry.HasFilter ? entry.Filter : null;
        var layer = filter?.AnsweringLayer(contentType, contentId) ?? -1;
        var rebuilding = _rebuilds.ContainsKey(userId);
        var bitmap = new byte[1];
        await _source.LowPriorityPointQueryAsync(userId, contentType, new[] { contentId }, bitmap, cancellationToken).ConfigureAwait(false);
        var rows = await _source.CountAsync(userId, cancellationToken).ConfigureAwait(false);
        return new Explanation(
            _options.Pool,
            Held: filter is not null,
            Capped: held && filter is null,
            rebuilding,
            FilterRead: layer >= 0,
            layer,
            DatabaseRead: (bitmap[0] & 1) != 0,
            rows,
            filter?.LayerCount ?? 0,
            filter?.Count ?? 0,
            filter?.Capacity ?? 0,
            filter?.BitBytes ?? 0,
            filter?.MemoryBytes ?? 0,
            filter?.EstimatedFalsePositiveRate ?? 0,
            _verifier?.MeasuredRate ?? 0,
            _verifier?.Negatives ?? 0);
    }

    /// <summary>
    /// Stops new rebuilds and waits for the running ones to end (they install nothing more); with T2, writes the held
    /// filters back for at most Cache:T2:ShutdownWriteBackTimeout before the tier's queue drains.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _refreshLoop.ConfigureAwait(false);
        foreach (var rebuild in _rebuilds.Values)
        {
            try
            {
                await rebuild.Completion.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Expected: the rebuild saw the shutdown.
            }
        }

        if (_verifier is not null)
        {
            await _verifier.DisposeAsync().ConfigureAwait(false);
        }

        if (_tier is not null)
        {
            await WriteBackAtShutdownAsync().ConfigureAwait(false);
            await _tier.DisposeAsync().ConfigureAwait(false);
        }

        Metrics.Dispose();
        _stopping.Dispose();
        _rebuildSlots.Dispose();
    }

    private void ApplyInserts(ulong userId, ushort contentType, ReadOnlySpan<StoredRead> items)
    {
        if (_rebuilds.TryGetValue(userId, out var rebuild) && TryBuffer(rebuild, contentType, items))
        {
            return;
        }

        if (Filters.TryGet(userId, out var entry) && entry.HasFilter)
        {
            foreach (var item in items)
            {
                Filters.Add(entry, contentType, item.ContentId);
            }
        }
    }

    private bool TryBuffer(ulong userId, ushort contentType, ulong contentId) =>
        _rebuilds.TryGetValue(userId, out var rebuild) && TryBuffer(rebuild, contentType, [new StoredRead(contentId, 0)]);

    /// <summary>Buffers changes in a running rebuild; false when it is no longer running (the caller then goes to the cache).</summary>
    private bool TryBuffer(UserRebuild rebuild, ushort contentType, ReadOnlySpan<StoredRead> items)
    {
        lock (rebuild.Gate)
        {
            if (rebuild.State != RebuildState.Running)
            {
                return false;
            }

            if (rebuild.Buffer.Count + items.Length > _options.MaxBufferedChangesPerUser)
            {
                // Too much arrived during one scan: give the rebuild up (it installs nothing, so nothing is missing);
                // the user stays on point queries until its next miss starts a fresh one.
                Log.RebuildBufferFull(_logger, _options.Pool, rebuild.Buffer.Count);
                Interlocked.Add(ref _bufferedChanges, -rebuild.Abandon());
                return true;
            }

            foreach (var item in items)
            {
                rebuild.Buffer.Add(new ContentKey(contentType, item.ContentId));
            }

            Interlocked.Add(ref _bufferedChanges, items.Length);
            Interlocked.Add(ref _changesBuffered, items.Length);
            return true;
        }
    }

    private void DropUser(ulong userId)
    {
        if (_rebuilds.TryGetValue(userId, out var rebuild))
        {
            lock (rebuild.Gate)
            {
                if (rebuild.State == RebuildState.Running)
                {
                    Interlocked.Add(ref _bufferedChanges, -rebuild.Abandon());
                }
            }
        }

        Filters.Remove(userId);
    }

    private async ValueTask<CheckResult> PointQueryAsync(ulong userId, ushort contentType, ReadOnlyMemory<ulong> contentIds, Memory<byte> readBitmap, CheckSource source, CancellationToken cancellationToken)
    {
        Metrics.PointQuery();
        var unread = await _source.PointQueryAsync(userId, contentType, contentIds, readBitmap, cancellationToken).ConfigureAwait(false);
        return new CheckResult(unread, source);
    }
}
