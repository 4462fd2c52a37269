namespace ReadHistory.Server.Cdc;

/// <summary>
/// Heartbeats: every HeartbeatInterval the leader appends an empty <see cref="ChangeBatch"/> to each slot stream that
/// got no batch within the interval, so a replica can tell "nothing happened" from "I hear nothing" and measure its
/// staleness. A heartbeat's commit time is its stamp, meaning "every row committed before this time is in the stream
/// at or before this entry": now while the leader is caught up (the binlog had nothing more and every publish had
/// completed when the stamp was taken), else the estimated commit time of the newest transaction whose publish has
/// completed (never later). It carries the epoch and the last published position and leaves the checkpoint alone;
/// it goes through the same fenced per-slot script as a publish, so a deposed leader cannot write one to a slot its
/// successor has claimed.
/// </summary>
/// <remarks>
/// Ordering: a heartbeat is sent only after every publish before it completed (chained behind the publish in flight,
/// or sent while none is), so no stream ever holds a stamp ahead of the batches it covers. The estimate is that of
/// <see cref="EstimateCommitTimeMs"/>: while the leader is behind it may be up to the binlog's one-second resolution
/// (and at most the lag) later than the real commit, so staleness is under-stated by at most that much then.
/// "Caught up" trusts the binlog to deliver a commit within a few ms: a transaction committed just before an idle
/// stamp and not yet delivered is covered by a stamp that is that much early.
/// </remarks>
internal sealed partial class CdcPublisher
{
    private const long NeverBeaten = long.MinValue;

    // The estimated commit time (Unix ms) of the newest transaction whose publish completed; 0 before the first.
    private long _publishedCommitMs;

    // Per stream (dense index), the timestamp of its last batch append: a heartbeat skips streams that got one within the interval.
    private long[]? _streamAppended;

    private bool HeartbeatDue(long lastHeartbeat) =>
        _options.HeartbeatInterval > TimeSpan.Zero && (lastHeartbeat == NeverBeaten || _time.GetElapsedTime(lastHeartbeat) >= _options.HeartbeatInterval);

    /// <summary>Records a completed publish: what a heartbeat behind the binlog may claim, and which streams just got a batch.</summary>
    private void Published(int[] streams, long lastCommitMs)
    {
        var appended = _streamAppended ??= new long[_slots.Length];
        var now = _time.GetTimestamp();
        foreach (var stream in streams)
        {
            Volatile.Write(ref appended[stream], now);
        }

        if (lastCommitMs > Volatile.Read(ref _publishedCommitMs))
        {
            Volatile.Write(ref _publishedCommitMs, lastCommitMs);
        }
    }

    /// <summary>
    /// Waits until the binlog delivers (<paramref name="waiting"/> completes), rethrowing at once a publish that failed
    /// meanwhile; while it waits with nothing in flight, the leader is caught up, and beats every HeartbeatInterval
    /// stamped now. Returns the publish chain and the time of the last heartbeat.
    /// </summary>
    private async Task<(Task Publishing, long LastHeartbeat)> WaitIdleAsync(string token, Task<bool> waiting, Task publishing, long lastHeartbeat, CancellationToken cancellationToken)
    {
        while (!waiting.IsCompleted)
        {
            if (publishing.IsCompleted)
            {
                await publishing.ConfigureAwait(false);
                if (HeartbeatDue(lastHeartbeat))
                {
                    publishing = PublishHeartbeatAsync(token, _time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken);
                    lastHeartbeat = _time.GetTimestamp();
                    continue;
                }
            }

            if (_options.HeartbeatInterval <= TimeSpan.Zero)
            {
                if (publishing.IsCompleted)
                {
                    break;
                }

                await Task.WhenAny(waiting, publishing).ConfigureAwait(false);
                continue;
            }

            // Wake for the binlog, the publish in flight, or the next beat, whichever comes first.
            using var beat = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var due = _options.HeartbeatInterval - _time.GetElapsedTime(lastHeartbeat);
            var timer = Task.Delay(due > TimeSpan.Zero ? due : TimeSpan.Zero, _time, beat.Token);
            await (publishing.IsCompleted ? Task.WhenAny(waiting, timer) : Task.WhenAny(waiting, publishing, timer)).ConfigureAwait(false);
            await beat.CancelAsync().ConfigureAwait(false);
        }

        return (publishing, lastHeartbeat);
    }

    /// <summary>A heartbeat behind the binlog: after <paramref name="previous"/>, stamped with what the publishes so far covered.</summary>
    private async Task HeartbeatAfterAsync(Task previous, string token, CancellationToken cancellationToken)
    {
        await previous.ConfigureAwait(false);
        var stamp = Volatile.Read(ref _publishedCommitMs);
        if (stamp > 0)
        {
            await PublishHeartbeatAsync(token, stamp, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Appends one heartbeat stamped <paramref name="stampMs"/> to every stream without a batch within the interval.</summary>
    private async Task PublishHeartbeatAsync(string token, long stampMs, CancellationToken cancellationToken)
    {
        var appended = _streamAppended;
        var keys = new List<(int, byte[]?)>(_slots.Length);
        var epoch = Epoch;
        var beat = ChangeBatch.CreateFromEncoded(epoch, stampMs, Volatile.Read(ref _lastPublished)?.ToString() ?? string.Empty, []);
        for (var i = 0; i < _slots.Length; i++)
        {
            var last = appended is null ? 0 : Volatile.Read(ref appended[i]);
            if (last == 0 || _time.GetElapsedTime(last) >= _options.HeartbeatInterval)
            {
                keys.Add((i, beat));
            }
        }

        if (keys.Count == 0)
        {
            return;
        }

        // No checkpoint: a heartbeat publishes no new position.
        await PublishAsync(token, epoch, setEpoch: false, keys, cancellationToken).ConfigureAwait(false);
        _metrics.Heartbeats(keys.Count);
    }
}
