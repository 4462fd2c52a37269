using Prometheus;

namespace ReadHistory.Server.Coherence;

/// <summary>
/// The sending side of the peer fan-out, per pool (the receiver counts what it applied in the cache's series): changes
/// sent and dropped, calls by outcome, and how long writers waited for their peers.
/// </summary>
internal sealed class PeerFanOutMetrics
{
    // 0.1 ms .. 1 s: the wait is bounded by Cache:PeerFanOutWait (5 ms by default, at most 1 s).
    private static readonly double[] WaitBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.003, 0.004, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

    private readonly Counter.Child _sent;
    private readonly Counter.Child _droppedQueueFull;
    private readonly Counter.Child _callsOk;
    private readonly Counter.Child _callsFailed;
    private readonly Counter.Child _callsDeadline;
    private readonly Histogram.Child _wait;

    /// <summary>Creates the series of <paramref name="pool"/> in <paramref name="registry"/> (a throwaway registry of its own when null).</summary>
    public PeerFanOutMetrics(string pool, CollectorRegistry? registry = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(pool);
        var factory = Metrics.WithCustomRegistry(registry ?? Metrics.NewCustomRegistry());
        _sent = factory.CreateCounter("readhistory_fanout_changes_sent_total", "Changes (content ids and user deletions) acknowledged by a peer replica, summed over peers", "pool").WithLabels(pool);
        var dropped = factory.CreateCounter("readhistory_fanout_changes_dropped_total", "Changes not sent to a peer replica because its queue was full (the change stream still brings them): queue_full", "pool", "reason");
        _droppedQueueFull = dropped.WithLabels(pool, "queue_full");
        var calls = factory.CreateCounter("readhistory_fanout_calls_total", "ApplyChanges calls to peer replicas by outcome: ok, failed, deadline", "outcome", "pool");
        _callsOk = calls.WithLabels("ok", pool);
        _callsFailed = calls.WithLabels("failed", pool);
        _callsDeadline = calls.WithLabels("deadline", pool);
        _wait = factory.CreateHistogram("readhistory_fanout_ack_wait_seconds", "Time a MarkRead or Forget waited for its peers' acknowledgement after its own bits were set (bounded by Cache:PeerFanOutWait)",
            new HistogramConfiguration { LabelNames = ["pool"], Buckets = WaitBuckets }).WithLabels(pool);
    }

    /// <summary>Changes peers acknowledged.</summary>
    public long Sent => (long)_sent.Value;

    /// <summary>Changes dropped because a peer's queue was full.</summary>
    public long DroppedQueueFull => (long)_droppedQueueFull.Value;

    /// <summary>Calls a peer acknowledged.</summary>
    public long CallsOk => (long)_callsOk.Value;

    /// <summary>Calls that failed (deadline included).</summary>
    public long CallsFailed => (long)(_callsFailed.Value + _callsDeadline.Value);

    /// <summary>Writes whose wait was observed.</summary>
    public long Waits => _wait.Count;

    /// <summary>Counts changes a peer acknowledged.</summary>
    public void ChangesSent(int changes) => _sent.Inc(changes);

    /// <summary>Counts changes dropped for a full queue.</summary>
    public void ChangesDroppedQueueFull(int changes) => _droppedQueueFull.Inc(changes);

    /// <summary>Counts a call by outcome.</summary>
    public void Call(PeerCallOutcome outcome) =>
        (outcome switch { PeerCallOutcome.Ok => _callsOk, PeerCallOutcome.Deadline => _callsDeadline, _ => _callsFailed }).Inc();

    /// <summary>Records one writer's wait.</summary>
    public void ObserveWait(TimeSpan waited) => _wait.Observe(waited.TotalSeconds);
}
