using System.Security.Cryptography;
using ReadHistory.MySql.Replication;
using ReadHistory.MySql.Replication.Client;
using StackExchange.Redis;

namespace ReadHistory.Server.Cdc;

/// <summary>The leader's work: pick the epoch and start, pump the binlog, publish.</summary>
internal sealed partial class CdcPublisher
{
    /// <summary>MariaDB ER_MASTER_FATAL_ERROR_READING_BINLOG: the requested GTID / position is purged or unknown.</summary>
    private const int BinlogPositionGone = 1236;

    private async Task LeadAsync(string token, CancellationToken cancellationToken)
    {
        var (epoch, checkpoint, reason) = await ClaimAsync(token).ConfigureAwait(false);
        MariaDbGtidPosition? start = null;
        if (reason is null)
        {
            try
            {
                start = MariaDbGtidPosition.Parse(checkpoint!.Position);
            }
            catch (FormatException)
            {
                reason = "the checkpoint '" + checkpoint!.Position + "' is not a MariaDB GTID position";
            }
        }

        if (start is null)
        {
            // Replicas drop what they hold on a new epoch and rebuild from the database, so any start at or before
            // the binlog's end now is coherent; this process's own last publish loses the least.
            start = Volatile.Read(ref _lastPublished) ?? await CurrentGtidPositionAsync(cancellationToken).ConfigureAwait(false);
            epoch = await StartEpochAsync(token, start, reason!, cancellationToken).ConfigureAwait(false);
        }

        Interlocked.Exchange(ref _epoch, (long)epoch);
        while (true)
        {
            Log.Publishing(_logger, Epoch, start);
            try
            {
                await PumpAsync(token, start, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (ReplicationException e) when (e.Number == BinlogPositionGone && !cancellationToken.IsCancellationRequested)
            {
                start = await CurrentGtidPositionAsync(cancellationToken).ConfigureAwait(false);
                var next = await StartEpochAsync(token, start, "the binlog no longer has the checkpoint (" + e.Message + ")", cancellationToken).ConfigureAwait(false);
                Interlocked.Exchange(ref _epoch, (long)next);
            }
            catch (StreamLostException e) when (!cancellationToken.IsCancellationRequested)
            {
                // Everything after the last complete publish is read again; the slots' replicas rebuild from the database.
                start = Volatile.Read(ref _lastPublished) ?? await CurrentGtidPositionAsync(cancellationToken).ConfigureAwait(false);
                var next = await StartEpochAsync(token, start, e.Message, cancellationToken).ConfigureAwait(false);
                Interlocked.Exchange(ref _epoch, (long)next);
            }
        }
    }

    /// <summary>
    /// Reads the checkpoint and every slot's epoch, and, when they agree, claims every slot for <paramref name="token"/>
    /// (so a deposed leader is refused from now on) while checking that each slot still holds the publishes the
    /// checkpoint counted. Returns the epoch and checkpoint to continue, or the reason a new epoch must start.
    /// </summary>
    private async Task<(ulong Epoch, CdcCheckpoint? Checkpoint, string? Reason)> ClaimAsync(string token)
    {
        var checkpoint = await _store.ReadCheckpointAsync().ConfigureAwait(false);
        if (checkpoint is null)
        {
            return (0, null, "no checkpoint in Redis (first start, a store of an earlier key layout, or Redis lost its data)");
        }

        if (checkpoint.Seqs.Count != _slots.Length)
        {
            return (0, null, "the checkpoint counts " + checkpoint.Seqs.Count + " streams, the topology has " + _slots.Length);
        }

        var states = await Task.WhenAll(_slots.Select(_store.ReadSlotAsync)).ConfigureAwait(false);
        var epoch = states[0].Epoch;
        for (var i = 0; i < states.Length; i++)
        {
            if (states[i].Epoch == 0 || states[i].Epoch != epoch)
            {
                return (0, null, "stream " + _slots[i].Stream + " has " + (states[i].Epoch == 0 ? "no epoch (its Redis lost its data)" : "another epoch"));
            }
        }

        var claims = new Task<long>[_slots.Length];
        for (var i = 0; i < _slots.Length; i++)
        {
            claims[i] = _store.PublishAsync(token, _slots[i], epoch, setEpoch: false, checkpoint.Seqs[i], batch: null, _options.StreamMaxLength);
        }

        await Task.WhenAll(claims).ConfigureAwait(false);
        for (var i = 0; i < _slots.Length; i++)
        {
            switch (claims[i].Result)
            {
                case CdcRedisStore.LeaseLost:
                    throw new LeaseLostException("a newer leader claimed stream " + _slots[i].Stream);
                case CdcRedisStore.EpochLost:
                    return (0, null, "stream " + _slots[i].Stream + " lost its epoch");
                case CdcRedisStore.RolledBack:
                    return (0, null, "stream " + _slots[i].Stream + " holds fewer publishes than the checkpoint counted (a failover lost its tail)");
                default:
                    _seqs[i] = claims[i].Result;
                    break;
            }
        }

        return (epoch, checkpoint, null);
    }

    private async Task<ulong> StartEpochAsync(string token, MariaDbGtidPosition start, string reason, CancellationToken cancellationToken)
    {
        var epoch = NewEpoch();
        await PublishAsync(token, epoch, setEpoch: true, Enumerable.Range(0, _slots.Length).Select(static i => (i, (byte[]?)null)).ToArray(), cancellationToken).ConfigureAwait(false);
        await SaveCheckpointAsync(token, start.ToString(), cancellationToken).ConfigureAwait(false);
        Log.NewEpoch(_logger, epoch, start, reason);
        _metrics.EpochStarted();
        Volatile.Write(ref _lastPublished, start);
        return epoch;
    }

    private async Task PumpAsync(string token, MariaDbGtidPosition start, CancellationToken cancellationToken)
    {
        var client = new BinlogClient(new BinlogClientOptions
        {
            ConnectionString = _database.ConnectionString,
            ServerId = _options.ServerId != 0 ? _options.ServerId : (uint)RandomNumberGenerator.GetInt32(1_000_000_000, 2_000_000_000),
            Start = BinlogStart.FromGtid(start),
            TableFilter = _tables.Filter,
            IncludeEmptyTransactions = true,
        }, _logger);

        var grouper = new ChangeGrouper(_topology);
        BinlogTransaction? last = null;
        var pendingSince = 0L;
        var firstCommitMs = 0L;
        var lastCommitMs = 0L;
        var lastHeartbeat = NeverBeaten;
        Task publishing = Task.CompletedTask;
        // The binlog read has a token of its own: a publish that fails while the read waits stops the read first, since
        // the reader cannot be disposed with a read pending.
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var transactions = client.ReadTransactionsAsync(reading.Token).GetAsyncEnumerator(reading.Token);
        await using (transactions.ConfigureAwait(false))
        {
            while (true)
            {
                var next = transactions.MoveNextAsync();
                bool more;
                if (next.IsCompleted)
                {
                    more = await next.ConfigureAwait(false);
                }
                else
                {
                    if (last is not null)
                    {
                        // The binlog has nothing more right now: publish what is gathered while waiting for it.
                        await publishing.ConfigureAwait(false);
                        publishing = PublishGroupAsync(token, grouper, last, firstCommitMs, lastCommitMs, caughtUp: true, cancellationToken);
                        last = null;
                    }
                    else if (publishing.IsCompleted)
                    {
                        _metrics.SetLag(0);
                    }

                    // Wait for the binlog, but hear at once of a publish that failed meanwhile (a lost lease), and beat
                    // the heartbeat while idle.
                    var waiting = next.AsTask();
                    try
                    {
                        (publishing, lastHeartbeat) = await WaitIdleAsync(token, waiting, publishing, lastHeartbeat, cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception) when (!waiting.IsCompleted)
                    {
                        await reading.CancelAsync().ConfigureAwait(false);
                        await ((Task)waiting).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                        throw;
                    }

                    more = await waiting.ConfigureAwait(false);
                }

                if (!more)
                {
                    break;
                }

                var transaction = transactions.Current;
                if (WipesHistory(transaction))
                {
                    if (last is not null)
                    {
                        await publishing.ConfigureAwait(false);
                        publishing = PublishGroupAsync(token, grouper, last, firstCommitMs, lastCommitMs, caughtUp: false, cancellationToken);
                        last = null;
                    }

                    await publishing.ConfigureAwait(false);
                    var epoch = await StartEpochAsync(token, transaction.GtidPosition, "a history table was truncated or dropped", cancellationToken).ConfigureAwait(false);
                    Interlocked.Exchange(ref _epoch, (long)epoch);
                    continue;
                }

                lastCommitMs = EstimateCommitTimeMs(transaction.CommitTimestamp);
                if (last is null)
                {
                    pendingSince = _time.GetTimestamp();
                    firstCommitMs = lastCommitMs;
                }

                grouper.Add(transaction);
                last = transaction;
                if (grouper.PendingRows >= _options.MaxBatchRows || _time.GetElapsedTime(pendingSince) >= _options.MaxBatchDelay)
                {
                    await publishing.ConfigureAwait(false);
                    publishing = PublishGroupAsync(token, grouper, last, firstCommitMs, lastCommitMs, caughtUp: false, cancellationToken);
                    last = null;
                }

                if (HeartbeatDue(lastHeartbeat))
                {
                    // Behind the binlog: the beat follows the publishes before it and is stamped with what they covered.
                    publishing = HeartbeatAfterAsync(publishing, token, cancellationToken);
                    lastHeartbeat = _time.GetTimestamp();
                }
            }

            if (last is not null)
            {
                await publishing.ConfigureAwait(false);
                publishing = PublishGroupAsync(token, grouper, last, firstCommitMs, lastCommitMs, caughtUp: true, cancellationToken);
            }

            await publishing.ConfigureAwait(false);
        }
    }

    private bool WipesHistory(BinlogTransaction transaction)
    {
        foreach (var statement in transaction.Statements)
        {
            if (_tables.WipesHistory(statement.Schema, statement.Sql))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The commit time of a transaction just read, in Unix ms. The binlog stamps commits in whole seconds, too coarse
    /// for a lag aim of 100 ms; the commit happened within [stamp, stamp + 1 s) and before this read, so the read time
    /// clamped into that second is the closest bound we have: when caught up it trails the commit by the binlog's
    /// delivery (a few ms), and when far behind it is at most a second late (the lag is then under-reported by at
    /// most that second, never over-reported).
    /// </summary>
    private long EstimateCommitTimeMs(DateTimeOffset binlogTimestamp)
    {
        var stamp = binlogTimestamp.ToUnixTimeMilliseconds();
        return Math.Clamp(_time.GetUtcNow().ToUnixTimeMilliseconds(), stamp, stamp + 999);
    }

    /// <summary>
    /// Drains the grouper (synchronously, so it can be refilled at once) and publishes the batches in the background,
    /// stamped with the estimated commit time of the group's first (oldest) transaction, so the lag replicas measure
    /// from it is that of the group's oldest change; once published, the group's last transaction's estimated commit
    /// time is what the next heartbeat behind the binlog may claim.
    /// </summary>
    private Task PublishGroupAsync(string token, ChangeGrouper grouper, BinlogTransaction last, long firstCommitMs, long lastCommitMs, bool caughtUp, CancellationToken cancellationToken)
    {
        var rows = grouper.PendingRows;
        var position = last.GtidPosition;
        var commitMs = firstCommitMs;
        var epoch = Epoch;
        var drained = grouper.Drain(epoch, commitMs, position.ToString());
        var batches = new (int, byte[]?)[drained.Count];
        var streams = new int[drained.Count];
        for (var i = 0; i < drained.Count; i++)
        {
            batches[i] = (drained[i].Stream, drained[i].Batch);
            streams[i] = drained[i].Stream;
        }

        return CompleteAsync();

        async Task CompleteAsync()
        {
            await PublishAsync(token, epoch, setEpoch: false, batches, cancellationToken).ConfigureAwait(false);
            await SaveCheckpointAsync(token, position.ToString(), cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref _lastPublished, position);
            Published(streams, lastCommitMs);
            _metrics.Published(rows, batches.Length);
            _metrics.SetLag(caughtUp ? 0 : (_time.GetUtcNow().ToUnixTimeMilliseconds() - commitMs) / 1000.0);
        }
    }

    /// <summary>
    /// One fenced script per slot, all in flight together (each slot lives in its own hash slot, maybe on its own
    /// cluster master); a null batch only sets the epoch or claims the slot. Returns once every slot took its batch.
    /// </summary>
    private async Task PublishAsync(string token, ulong epoch, bool setEpoch, IReadOnlyList<(int Stream, byte[]? Batch)> batches, CancellationToken cancellationToken)
    {
        var calls = new Task[batches.Count];
        for (var i = 0; i < calls.Length; i++)
        {
            calls[i] = PublishSlotAsync(token, epoch, setEpoch, batches[i].Stream, batches[i].Batch, cancellationToken);
        }

        await Task.WhenAll(calls).ConfigureAwait(false);
    }

    /// <summary>One slot's fenced call; transient Redis errors are retried until the lease is lost (the token is cancelled).</summary>
    private async Task PublishSlotAsync(string token, ulong epoch, bool setEpoch, int stream, byte[]? batch, CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromMilliseconds(50);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long result;
            try
            {
                // A retry after a call that did land finds one more publish than expected, which passes: the batch is
                // appended twice, which replicas absorb.
                result = await _store.PublishAsync(token, _slots[stream], epoch, setEpoch, Volatile.Read(ref _seqs[stream]), batch, _options.StreamMaxLength).ConfigureAwait(false);
            }
            catch (Exception e) when (CdcRedisStore.IsTransient(e))
            {
                Log.RedisRetry(_logger, e.Message, delay.TotalMilliseconds);
                await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(1).Ticks));
                continue;
            }

            switch (result)
            {
                case CdcRedisStore.LeaseLost:
                    throw new LeaseLostException("a newer leader claimed stream " + _slots[stream].Stream);
                case CdcRedisStore.EpochLost:
                    throw new StreamLostException("stream " + _slots[stream].Stream + " lost its epoch (its Redis lost its data)");
                case CdcRedisStore.RolledBack:
                    throw new StreamLostException("stream " + _slots[stream].Stream + " holds fewer publishes than were made (a failover lost its tail)");
                default:
                    Volatile.Write(ref _seqs[stream], result);
                    return;
            }
        }
    }

    /// <summary>Saves <paramref name="position"/> with every stream's publish count, fenced on the lease; transient errors are retried.</summary>
    private async Task SaveCheckpointAsync(string token, string position, CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromMilliseconds(50);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            bool held;
            try
            {
                var seqs = new long[_seqs.Length];
                for (var i = 0; i < seqs.Length; i++)
                {
                    seqs[i] = Volatile.Read(ref _seqs[i]);
                }

                held = await _store.WriteCheckpointAsync(token, new CdcCheckpoint(position, seqs)).ConfigureAwait(false);
            }
            catch (Exception e) when (CdcRedisStore.IsTransient(e))
            {
                Log.RedisRetry(_logger, e.Message, delay.TotalMilliseconds);
                await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(1).Ticks));
                continue;
            }

            if (!held)
            {
                throw new LeaseLostException();
            }

            return;
        }
    }
}
