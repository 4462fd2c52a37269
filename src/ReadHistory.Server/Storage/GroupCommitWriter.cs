using System.Buffers;
using Microsoft.Extensions.Logging;
using Polly;
using ReadHistory.Core.Routing;

namespace ReadHistory.Server.Storage;

/// <summary>
/// Group commit: writes are queued per shard and flushed as one multi-row upsert (one transaction) when a shard has
/// <see cref="DatabaseOptions.GroupCommitMaxRows"/> rows or its oldest write has waited
/// <see cref="DatabaseOptions.GroupCommitMaxDelay"/>; a caller's task completes only after its rows are committed.
/// Rows queued or in flight are bounded, and so is the wait of the oldest write queued for a shard
/// (<see cref="DatabaseOptions.GroupCommitMaxQueueDelay"/>); past either bound a write is refused at once with
/// <see cref="StorageOverloadedException"/>, never dropped. Transient errors are retried (the upsert is idempotent);
/// a permanent error fails exactly the writes it belongs to.
/// </summary>
internal sealed partial class GroupCommitWriter : IAsyncDisposable
{
    private readonly ShardMap _map;
    private readonly IShardFlusher _flusher;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly StorageMetrics _metrics;
    private readonly ShardQueue[] _shards;
    private readonly ResiliencePipeline _retry;
    private readonly IDisposable _gauge;
    private readonly int _maxRows;
    private readonly TimeSpan _maxDelay;
    private readonly int _concurrency;
    private readonly int _maxQueuedRows;
    private readonly TimeSpan _maxQueueDelay;
    private readonly TimeSpan _delayRetryAfter;
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _queuedRows;
    private long _delayRefusals;
    private long _delayLoggedAt;
    private volatile bool _closing;

    /// <summary>Creates a writer over a flusher (the MySQL one, or a fake in tests).</summary>
    public GroupCommitWriter(DatabaseOptions options, ShardMap map, IShardFlusher flusher, TimeProvider time, ILogger logger, StorageMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _map = map;
        _flusher = flusher;
        _time = time;
        _logger = logger;
        _metrics = metrics ?? StorageMetrics.Shared;
        _maxRows = options.GroupCommitMaxRows;
        _maxDelay = options.GroupCommitMaxDelay;
        _concurrency = options.GroupCommitConcurrencyPerShard;
        _maxQueuedRows = options.GroupCommitMaxQueuedRows;
        _maxQueueDelay = options.GroupCommitMaxQueueDelay;
        _delayRetryAfter = TimeSpan.FromMilliseconds(Math.Clamp(_maxQueueDelay.TotalMilliseconds / 2, RetryAfter().TotalMilliseconds, 1000));
        _shards = new ShardQueue[map.ShardCount];
        for (var i = 0; i < _shards.Length; i++)
        {
            _shards[i] = new ShardQueue(this, i);
        }

        _retry = BuildRetry(options, time, logger);
        _gauge = _metrics.RegisterQueue(() => QueuedRows);
    }

    // Set by an Ingest stream around the writes of its messages (BulkScope): they are bounded by the stream's rows in
    // flight and wait for room at the queue-delay bound instead of being refused, so that the stream is slowed (HTTP/2
    // flow control reaches its client) rather than failed. Flows with the ExecutionContext into the write it starts.
    private static readonly AsyncLocal<bool> InBulk = new();

    /// <summary>
    /// Marks the writes started until the returned scope is disposed, on this async flow, as one bulk stream's: at the
    /// <see cref="DatabaseOptions.GroupCommitMaxQueueDelay"/> bound they wait for the shard's next flush instead of
    /// being refused (the row bound still refuses them).
    /// </summary>
    public static BulkWrites BulkScope()
    {
        InBulk.Value = true;
        return default;
    }

    /// <summary>The scope of <see cref="BulkScope"/>: disposing it ends the bulk marking on this flow.</summary>
    public readonly struct BulkWrites : IDisposable
    {
        /// <inheritdoc />
        public void Dispose() => InBulk.Value = false;
    }

    /// <summary>Rows accepted and not yet acknowledged (queued or being flushed), all shards.</summary>
    public long QueuedRows => Interlocked.Read(ref _queuedRows);

    /// <summary>
    /// Queues the rows of one user and completes once they are committed. Throws <see cref="StorageOverloadedException"/>
    /// at once when the queue is full; the task fails with <see cref="StorageWriteException"/> when the rows could not be
    /// committed. Cancelling stops the wait only: rows already queued may still commit (harmless, the upsert is idempotent).
    /// </summary>
    public Task WriteAsync(ulong userId, ushort contentType, ReadOnlySpan<StoredRead> items, CancellationToken cancellationToken = default)
    {
        if (userId == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(userId), "user id 0 is not valid");
        }

        if (items.IsEmpty)
        {
            return Task.CompletedTask;
        }

        if (items.Length > _maxQueuedRows)
        {
            throw new ArgumentOutOfRangeException(nameof(items), $"{items.Length} rows exceed the queue bound of {_maxQueuedRows}");
        }

        cancellationToken.ThrowIfCancellationRequested();
        var now = (uint)Math.Clamp(_time.GetUtcNow().ToUnixTimeSeconds(), 0, uint.MaxValue);
        var rows = ArrayPool<HistoryRow>.Shared.Rent(items.Length);
        for (var i = 0; i < items.Length; i++)
        {
            if (items[i].ContentId == 0)
            {
                ArrayPool<HistoryRow>.Shared.Return(rows);
                throw new ArgumentOutOfRangeException(nameof(items), $"items[{i}]: content id 0 is not valid");
            }

            rows[i] = new HistoryRow(userId, contentType, items[i].ContentId, HistoryRow.ToStoredSeconds(items[i].ReadAtMs, now));
        }

        return Enqueue(_map.ShardOf(userId), rows, items.Length, cancellationToken);
    }

    /// <summary>Flushes everything queued, waits for every flush to finish and refuses new writes.</summary>
    public async ValueTask DisposeAsync()
    {
        _closing = true;
        foreach (var shard in _shards)
        {
            shard.FlushWhatIsPending();
        }

        if (QueuedRows == 0)
        {
            _drained.TrySetResult();
        }

        await _drained.Task.ConfigureAwait(false);
        foreach (var shard in _shards)
        {
            shard.Dispose();
        }

        _gauge.Dispose();
    }

    private Task Enqueue(int shard, HistoryRow[] rows, int count, CancellationToken cancellationToken)
    {
        if (_closing)
        {
            ArrayPool<HistoryRow>.Shared.Return(rows);
            throw new ObjectDisposedException(nameof(GroupCommitWriter));
        }

        var queued = Interlocked.Add(ref _queuedRows, count);
        if (queued > _maxQueuedRows)
        {
            Interlocked.Add(ref _queuedRows, -count);
            ArrayPool<HistoryRow>.Shared.Return(rows);
            _metrics.RefusedForRows.Inc();
            Log.QueueFull(_logger, queued - count, _maxQueuedRows, count);
            throw new StorageOverloadedException(
                $"the storage ingest queue is full ({queued - count} rows waiting, limit {_maxQueuedRows}); retry later",
                RetryAfter());
        }

        var write = new PendingWrite(rows, count);
        var bulk = InBulk.Value;
        if (!_shards[shard].TryAdd(write, bulk, out var waited, out var room))
        {
            if (room is not null)
            {
                return EnqueueWhenRoomAsync(_shards[shard], write, room, cancellationToken);
            }

            Interlocked.Add(ref _queuedRows, -count);
            write.ReturnRows();
            _metrics.RefusedForDelay.Inc();
            NoteDelayRefusal(shard, waited);
            throw new StorageOverloadedException(
                $"the storage ingest queue of shard {shard} is behind: its oldest write has waited {(long)waited.TotalMilliseconds} ms, past ReadHistory:Database:GroupCommitMaxQueueDelay ({(long)_maxQueueDelay.TotalMilliseconds} ms); retry later",
                _delayRetryAfter);
        }

        return cancellationToken.CanBeCanceled ? write.Completion.Task.WaitAsync(cancellationToken) : write.Completion.Task;
    }

    // A bulk write at the queue-delay bound: waits for the shard's next flush to take the backlog, then tries again.
    // Bounded: every flush ends (committed, or failed after its retries), and then the head of the queue is younger.
    private async Task EnqueueWhenRoomAsync(ShardQueue shard, PendingWrite write, Task room, CancellationToken cancellationToken)
    {
        try
        {
            do
            {
                await room.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            while (!shard.TryAdd(write, bulk: true, out _, out room!));
        }
        catch
        {
            Interlocked.Add(ref _queuedRows, -write.Count);
            write.ReturnRows();
            throw;
        }

        await write.Completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    // Refusals for the queue's wait come in floods (every write of a slow shard): logged at most once a second, with
    // the count refused since the last line.
    private void NoteDelayRefusal(int shard, TimeSpan waited)
    {
        var refused = Interlocked.Increment(ref _delayRefusals);
        var last = Interlocked.Read(ref _delayLoggedAt);
        var now = _time.GetTimestamp();
        if ((last == 0 || _time.GetElapsedTime(last, now) >= TimeSpan.FromSeconds(1)) && Interlocked.CompareExchange(ref _delayLoggedAt, now, last) == last)
        {
            Log.QueueDelayed(_logger, shard, (long)waited.TotalMilliseconds, (long)_maxQueueDelay.TotalMilliseconds, refused);
            Interlocked.Add(ref _delayRefusals, -refused);
        }
    }

    // A full queue drains at roughly one batch per commit; suggest waiting a few of them.
    private TimeSpan RetryAfter() => TimeSpan.FromMilliseconds(Math.Clamp(_maxDelay.TotalMilliseconds * 10, 20, 1000));

    private static ResiliencePipeline BuildRetry(DatabaseOptions options, TimeProvider time, ILogger logger) =>
        StorageRetry.Build(options, time, args =>
        {
            var batch = args.Context.Properties.GetValue(BatchKey, default);
            Log.FlushRetrying(logger, args.Outcome.Exception, batch.Rows, batch.Shard, args.AttemptNumber + 1, args.RetryDelay.TotalMilliseconds);
            return ValueTask.CompletedTask;
        });

    private static readonly ResiliencePropertyKey<(int Shard, int Rows)> BatchKey = new("readhistory.batch");
}
