using Grpc.Core;
using Microsoft.Extensions.Logging;
using ReadHistory.Server.Storage;

namespace ReadHistory.Server.Coherence;

/// <summary>
/// Sends this node's committed changes to one peer replica of its slot: a bounded queue of batches (past the bound a
/// change is dropped and counted: the change stream still brings it), one ApplyChanges call in flight while the next
/// batch gathers, a deadline per call, and backoff while the peer fails: the failed batch and everything queued
/// behind it stay queued and are sent again once the backoff ends (a peer that is only slow or briefly gone, as under
/// overload, gets every change late rather than never — what matters when the change stream is down at the same
/// time), while writers stop waiting for it, so a peer that is down costs one call per backoff period, a bounded
/// queue, and never slows a writer.
/// </summary>
/// <remarks>
/// A writer waits on the completion of the batch holding its last change (shared by every writer of the batch), which
/// completes when the peer acknowledged the batch, when its call failed, or when the wait bound since the batch opened
/// elapsed; one timer per peer enforces the bound for every batch (no timer per write).
/// </remarks>
internal sealed class PeerSender : IThreadPoolWorkItem, IDisposable
{
    private readonly object _gate = new();
    private readonly Queue<PeerBatch> _waiting = new();
    private readonly Stack<PeerBatch> _spare = new();
    private readonly PeerTransport _transport;
    private readonly byte[] _header;
    private readonly PeerFanOutSettings _settings;
    private readonly PeerFanOutMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ITimer _waitTimer;
    private readonly long _waitTicks;
    private readonly EncodedChanges _request = new();
    private readonly CancellationTokenSource _stopping = new();
    private PeerBatch? _gathering;
    private PeerBatch? _inFlight;
    private int _queued;
    private bool _pumping;
    private bool _timerArmed;
    private long _backoffUntil;
    private TimeSpan _backoff;
    private string _lastError = string.Empty;
    private bool _disposed;

    /// <summary>
    /// A sender to <paramref name="peer"/> over <paramref name="transport"/> (owned: disposed with the sender), whose
    /// calls start with <paramref name="header"/> (the encoded pool and slot fields of ApplyChangesRequest).
    /// </summary>
    public PeerSender(Uri peer, PeerTransport transport, ReadOnlySpan<byte> header, PeerFanOutSettings settings, PeerFanOutMetrics metrics, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(peer);
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.MaxChangesPerCall, 1, nameof(settings));
        Peer = peer;
        _transport = transport;
        _header = header.ToArray();
        _settings = settings;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _waitTicks = (long)(settings.Wait.TotalSeconds * time.TimestampFrequency);
        _waitTimer = time.CreateTimer(static state => ((PeerSender)state!).OnWaitBound(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>The peer's internal gRPC address.</summary>
    public Uri Peer { get; }

    /// <summary>Changes queued (gathering, waiting or in flight).</summary>
    public int Queued
    {
        get
        {
            lock (_gate)
            {
                return _queued;
            }
        }
    }

    /// <summary>
    /// True from a failed call until a call succeeds again: writers do not wait for the peer meanwhile, and its queue
    /// is sent again after each backoff (100 ms doubling to 5 s).
    /// </summary>
    public bool InBackoff
    {
        get
        {
            lock (_gate)
            {
                return BackingOff();
            }
        }
    }

    /// <summary>
    /// Queues rows of one user and type (copied); returns what the writer waits on, or null when there is nothing to
    /// wait for (dropped, the peer backed off, or no wait configured). <paramref name="untilApplied"/>: the result
    /// completes only once the peer applied the rows (or failed, or the sender stopped), whatever the wait bound.
    /// </summary>
    public Task? EnqueueInserts(ulong userId, ushort contentType, ReadOnlySpan<StoredRead> items, bool untilApplied = false)
    {
        if (items.IsEmpty)
        {
            return null;
        }

        lock (_gate)
        {
            if (!Admit(items.Length))
            {
                return null;
            }

            _queued += items.Length;
            var wait = (untilApplied || _waitTicks > 0) && !BackingOff();
            var batch = Gathering();
            while (true)
            {
                // A write larger than a call's room spills over into the next batch; its writer waits for the last.
                var take = Math.Min(_settings.MaxChangesPerCall - batch.Changes, items.Length);
                batch.AddInserts(userId, contentType, items[..take]);
                items = items[take..];
                if (items.IsEmpty)
                {
                    break;
                }

                batch = OpenBatch();
            }

            Schedule();
            return !wait ? null : untilApplied ? batch.Done!.Task : batch.Ack!.Task;
        }
    }

    /// <summary>Queues the deletion of a user's history; returns as <see cref="EnqueueInserts"/>.</summary>
    public Task? EnqueueDeleteUser(ulong userId)
    {
        lock (_gate)
        {
            if (!Admit(1))
            {
                return null;
            }

            _queued++;
            var wait = _waitTicks > 0 && !BackingOff();
            var batch = Gathering();
            batch.AddDeleteUser(userId);
            Schedule();
            return wait ? batch.Ack!.Task : null;
        }
    }

    /// <summary>Runs the send loop on a pool thread (queued by <see cref="Schedule"/>), never on a writer's.</summary>
    void IThreadPoolWorkItem.Execute() => _ = PumpAsync();

    /// <summary>Stops sending: releases every waiting writer, cancels the call in flight, closes the transport.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _inFlight?.Finish();
            foreach (var batch in _waiting)
            {
                batch.Finish();
            }

            _waiting.Clear();
            _gathering = null;
        }

        _stopping.Cancel();
        _waitTimer.Dispose();
        _transport.Dispose();
        _stopping.Dispose();
    }

    // Under _gate.
    private bool Admit(int changes)
    {
        if (_disposed)
        {
            return false;
        }

        if (_queued + changes > _settings.MaxQueuedChanges)
        {
            _metrics.ChangesDroppedQueueFull(changes);
            return false;
        }

        return true;
    }

    // Under _gate: the peer failed and has not answered since (its backoff, and the resend after it, until one succeeds).
    private bool BackingOff() => _backoffUntil != 0;

    // Under _gate.
    private PeerBatch Gathering() =>
        _gathering is { } batch && batch.Changes < _settings.MaxChangesPerCall ? batch : OpenBatch();

    // Under _gate.
    private PeerBatch OpenBatch()
    {
        var batch = _spare.TryPop(out var spare) ? spare : new PeerBatch();
        batch.Open(_time.GetTimestamp() + _waitTicks);
        _waiting.Enqueue(batch);
        _gathering = batch;
        if (_waitTicks > 0 && !_timerArmed)
        {
            _timerArmed = true;
            _waitTimer.Change(_settings.Wait, Timeout.InfiniteTimeSpan);
        }

        return batch;
    }

    // Under _gate.
    private void Schedule()
    {
        if (!_pumping)
        {
            _pumping = true;
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }

    private async Task PumpAsync()
    {
        while (true)
        {
            PeerBatch? batch;
            lock (_gate)
            {
                // The head stays queued until the peer acknowledged it: a failed call is sent again after the backoff.
                if (_disposed || !_waiting.TryPeek(out batch))
                {
                    _pumping = false;
                    return;
                }

                if (batch == _gathering)
                {
                    _gathering = null;
                }

                _inFlight = batch;
            }

            var outcome = await SendAsync(batch).ConfigureAwait(false);
            _metrics.Call(outcome);
            TimeSpan backoff;
            lock (_gate)
            {
                _inFlight = null;
                if (_disposed)
                {
                    _pumping = false;
                    return;
                }

                if (outcome == PeerCallOutcome.Ok)
                {
                    _waiting.Dequeue();
                    _queued -= batch.Changes;
                    _metrics.ChangesSent(batch.Changes);
                    if (_backoff != TimeSpan.Zero)
                    {
                        _backoff = TimeSpan.Zero;
                        _backoffUntil = 0;
                        Log.PeerFanOutResumed(_logger, Peer);
                    }

                    batch.Finish();
                    _spare.Push(batch);
                    continue;
                }

                backoff = BackOff();
            }

            try
            {
                await Task.Delay(backoff, _time, _stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                lock (_gate)
                {
                    _pumping = false;
                }

                return;
            }
        }
    }

    private async Task<PeerCallOutcome> SendAsync(PeerBatch batch)
    {
        try
        {
            _request.Encode(batch, _header);
            var deadline = _time.GetUtcNow().UtcDateTime + _settings.CallTimeout;
            await _transport.SendAsync(_request, deadline, _stopping.Token).ConfigureAwait(false);
            return PeerCallOutcome.Ok;
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.DeadlineExceeded)
        {
            _lastError = e.Status.Detail;
            return PeerCallOutcome.Deadline;
        }
#pragma warning disable CA1031 // Whatever went wrong with the peer, the batch stays queued: count the call, back off, send it again.
        catch (Exception e)
#pragma warning restore CA1031
        {
            _lastError = e.Message;
            return PeerCallOutcome.Failed;
        }
    }

    // Under _gate: the peer failed. Its writers go on without it (every queued batch is released) and new writers do
    // not wait for it until a call succeeds again; what is queued stays queued and is sent again after the backoff.
    private TimeSpan BackOff()
    {
        if (_backoff == TimeSpan.Zero)
        {
            Log.PeerFanOutFailing(_logger, Peer, _lastError);
        }

        _backoff = _backoff == TimeSpan.Zero ? _settings.MinBackoff : TimeSpan.FromTicks(Math.Min(_backoff.Ticks * 2, _settings.MaxBackoff.Ticks));
        _backoffUntil = _time.GetTimestamp() + (long)(_backoff.TotalSeconds * _time.TimestampFrequency);
        foreach (var batch in _waiting)
        {
            batch.Finish();
        }

        // New writes gather in a batch of their own, whose completion is still to come (for when the peer is back).
        _gathering = null;
        return _backoff;
    }

    // The wait bound of the oldest batches passed: their writers go on without the peer's acknowledgement.
    private void OnWaitBound()
    {
        lock (_gate)
        {
            _timerArmed = false;
            if (_disposed)
            {
                return;
            }

            var now = _time.GetTimestamp();
            var next = _inFlight is { } inFlight ? ReleaseIfDue(inFlight, now) : 0;
            if (next == 0)
            {
                // Batches open in order, so the first one not yet due is the next deadline.
                foreach (var batch in _waiting)
                {
                    next = ReleaseIfDue(batch, now);
                    if (next != 0)
                    {
                        break;
                    }
                }
            }

            if (next != 0)
            {
                _timerArmed = true;
                _waitTimer.Change(TimeSpan.FromSeconds((next - now) / (double)_time.TimestampFrequency), Timeout.InfiniteTimeSpan);
            }
        }
    }

    // The batch's deadline when it is still to come, else 0 (released now, or already).
    private static long ReleaseIfDue(PeerBatch batch, long now)
    {
        if (batch.Ack is not { Task.IsCompleted: false })
        {
            return 0;
        }

        if (batch.WaitUntil <= now)
        {
            batch.Release();
            return 0;
        }

        return batch.WaitUntil;
    }
}
