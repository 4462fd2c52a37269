using System.Buffers;
using Polly;

namespace ReadHistory.Server.Storage;

/// <summary>The per-shard queues and the flush itself.</summary>
internal sealed partial class GroupCommitWriter
{
    private async Task FlushAsync(ShardQueue shard, List<PendingWrite> writes, int rowCount)
    {
        var rows = ArrayPool<HistoryRow>.Shared.Rent(rowCount);
        try
        {
            var unique = Merge(writes, rows);
            var started = _time.GetTimestamp();
            try
            {
                await CommitAsync(shard.Index, rows.AsMemory(0, unique)).ConfigureAwait(false);
                _metrics.CommitDuration.Observe(_time.GetElapsedTime(started).TotalSeconds);
                _metrics.IngestRows.Inc(unique);
                foreach (var write in writes)
                {
                    write.Completion.TrySetResult();
                }
            }
            catch (Exception e) when (writes.Count > 1 && !StorageErrors.IsTransient(e))
            {
                // A permanent error may belong to one write's rows only: commit each write alone, so that exactly
                // the writes that cannot be stored fail (a dropped table fails them all, one by one).
                foreach (var write in writes)
                {
                    await FlushAloneAsync(shard.Index, write).ConfigureAwait(false);
                }
            }
            catch (Exception e)
            {
                Log.FlushFailed(_logger, e, unique, writes.Count, shard.Index);
                var failure = Failure(shard.Index, unique, e);
                foreach (var write in writes)
                {
                    write.Completion.TrySetException(failure);
                }
            }
        }
        finally
        {
            ArrayPool<HistoryRow>.Shared.Return(rows);
            foreach (var write in writes)
            {
                write.ReturnRows();
            }

            var left = Interlocked.Add(ref _queuedRows, -rowCount);
            shard.FlushCompleted();
            if (left == 0 && _closing)
            {
                _drained.TrySetResult();
            }
        }
    }

    private async Task FlushAloneAsync(int shard, PendingWrite write)
    {
        var rows = write.Rows.AsSpan(0, write.Count);
        rows.Sort();
        var unique = Deduplicate(rows);
        try
        {
            await CommitAsync(shard, write.Rows.AsMemory(0, unique)).ConfigureAwait(false);
            _metrics.IngestRows.Inc(unique);
            write.Completion.TrySetResult();
        }
        catch (Exception e)
        {
            Log.FlushFailed(_logger, e, unique, 1, shard);
            write.Completion.TrySetException(Failure(shard, unique, e));
        }
    }

    private Task CommitAsync(int shard, ReadOnlyMemory<HistoryRow> rows)
    {
        var context = ResilienceContextPool.Shared.Get(CancellationToken.None);
        context.Properties.Set(BatchKey, (shard, rows.Length));
        return Run(context);

        async Task Run(ResilienceContext context)
        {
            try
            {
                await _retry.ExecuteAsync(
                    static (ctx, state) => new ValueTask(state.Flusher.FlushAsync(state.Shard, state.Rows, ctx.CancellationToken)),
                    context,
                    (Flusher: _flusher, Shard: shard, Rows: rows)).ConfigureAwait(false);
            }
            finally
            {
                ResilienceContextPool.Shared.Return(context);
            }
        }
    }

    private static StorageWriteException Failure(int shard, int rows, Exception e) =>
        new($"storage write of {rows} rows to shard {shard} was not committed: {e.Message}", e);

    // Copies every write's rows into one array, sorted by primary key (so concurrent flushes lock in one order and
    // cannot deadlock each other) with duplicate keys folded into the latest read_at; returns the count left.
    private static int Merge(List<PendingWrite> writes, HistoryRow[] into)
    {
        var n = 0;
        foreach (var write in writes)
        {
            write.Rows.AsSpan(0, write.Count).CopyTo(into.AsSpan(n));
            n += write.Count;
        }

        var span = into.AsSpan(0, n);
        span.Sort();
        return Deduplicate(span);
    }

    private static int Deduplicate(Span<HistoryRow> sorted)
    {
        if (sorted.Length < 2)
        {
            return sorted.Length;
        }

        var last = 0;
        for (var i = 1; i < sorted.Length; i++)
        {
            if (sorted[i].SameKey(sorted[last]))
            {
                if (sorted[i].ReadAt > sorted[last].ReadAt)
                {
                    sorted[last] = sorted[i];
                }
            }
            else
            {
                sorted[++last] = sorted[i];
            }
        }

        return last + 1;
    }

    /// <summary>One caller's rows, when they were queued (a TimeProvider timestamp) and the task acknowledging them.</summary>
    private sealed class PendingWrite(HistoryRow[] rows, int count)
    {
        public HistoryRow[] Rows { get; } = rows;

        public int Count { get; } = count;

        // Set by the shard queue when it takes the write (a bulk write that waited for room: when it finally does).
        public long QueuedAt { get; set; }

        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void ReturnRows() => ArrayPool<HistoryRow>.Shared.Return(Rows);
    }

    /// <summary>
    /// The queue of one shard. Under its lock: the pending writes, their row count, the flushes running and whether the
    /// delay timer is armed. Flushes start outside the lock.
    /// </summary>
    private sealed class ShardQueue : IDisposable
    {
        private readonly GroupCommitWriter _owner;
        private readonly Lock _gate = new();
        private readonly Queue<PendingWrite> _pending = new();
        private readonly ITimer _timer;
        private int _pendingRows;
        private int _inFlight;
        private bool _timerArmed;
        private TaskCompletionSource? _room;

        public ShardQueue(GroupCommitWriter owner, int index)
        {
            _owner = owner;
            Index = index;
            _timer = owner._time.CreateTimer(static state => ((ShardQueue)state!).FlushWhatIsPending(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }

        public int Index { get; }

        /// <summary>
        /// Queues <paramref name="write"/>, or refuses it (false) when the oldest write waiting here has waited longer
        /// than GroupCommitMaxQueueDelay for a flush to take it (<paramref name="waited"/>: that wait). A
        /// <paramref name="bulk"/> write is then given <paramref name="room"/>, which completes when the next flush
        /// takes writes from this queue.
        /// </summary>
        public bool TryAdd(PendingWrite write, bool bulk, out TimeSpan waited, out Task? room)
        {
            List<PendingWrite>? batch = null;
            var batchRows = 0;
            var arm = false;
            waited = TimeSpan.Zero;
            room = null;
            lock (_gate)
            {
                var now = _owner._time.GetTimestamp();
                if (_owner._maxQueueDelay > TimeSpan.Zero && _pending.TryPeek(out var oldest)
                    && (waited = _owner._time.GetElapsedTime(oldest.QueuedAt, now)) > _owner._maxQueueDelay)
                {
                    if (bulk)
                    {
                        _room ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                        room = _room.Task;
                    }

                    return false;
                }

                write.QueuedAt = now;
                _pending.Enqueue(write);
                _pendingRows += write.Count;
                if (_inFlight < _owner._concurrency)
                {
                    if (_pendingRows >= _owner._maxRows || _owner._maxDelay == TimeSpan.Zero || _owner._closing)
                    {
                        batch = TakeBatch(out batchRows);
                    }
                    else if (!_timerArmed)
                    {
                        _timerArmed = arm = true;
                    }
                }
            }

            if (batch is not null)
            {
                Start(batch, batchRows);
            }
            else if (arm)
            {
                _timer.Change(_owner._maxDelay, Timeout.InfiniteTimeSpan);
            }

            return true;
        }

        // The delay timer fired (or the writer is closing): flush what waits, as far as the concurrency bound allows.
        public void FlushWhatIsPending()
        {
            while (true)
            {
                List<PendingWrite>? batch;
                int rows;
                lock (_gate)
                {
                    _timerArmed = false;
                    if (_pendingRows == 0 || _inFlight >= _owner._concurrency)
                    {
                        return;
                    }

                    batch = TakeBatch(out rows);
                }

                Start(batch, rows);
            }
        }

        // A flush finished. Whatever queued meanwhile has waited at least one commit already: flush it now rather
        // than waiting out the delay again (classic group commit: the next batch is what arrived during this one).
        public void FlushCompleted()
        {
            List<PendingWrite>? batch = null;
            var rows = 0;
            lock (_gate)
            {
                _inFlight--;
                if (_pendingRows > 0)
                {
                    batch = TakeBatch(out rows);
                }
            }

            if (batch is not null)
            {
                Start(batch, rows);
            }
        }

        public void Dispose() => _timer.Dispose();

        // Takes whole writes up to the batch size (at least one); called under the lock; counts the flush as running.
        private List<PendingWrite> TakeBatch(out int rows)
        {
            var batch = new List<PendingWrite>();
            rows = 0;
            while (_pending.TryPeek(out var next) && (batch.Count == 0 || rows + next.Count <= _owner._maxRows))
            {
                batch.Add(_pending.Dequeue());
                rows += next.Count;
            }

            _pendingRows -= rows;
            _inFlight++;
            // The head of the queue is younger now: bulk writes waiting for room try again.
            _room?.TrySetResult();
            _room = null;
            return batch;
        }

        private void Start(List<PendingWrite> batch, int rows)
        {
            _owner._metrics.QueueDelay.Observe(_owner._time.GetElapsedTime(batch[0].QueuedAt).TotalSeconds);
            _ = Task.Run(() => _owner.FlushAsync(this, batch, rows));
        }
    }
}
