namespace ReadHistory.Server.Cache;

/// <summary>
/// How far this node's filters may lag the database: the coherence tailer reports each stamp it applies (a change
/// batch's commit time or a CDC heartbeat's, Unix ms: "every row committed before this time is applied"), and the
/// node is stale once now is more than MaxStaleness past the newest one, or while it knows none yet. Read on the
/// check path: one clock read and one compare, no allocation; written only when the stamp grows.
/// </summary>
/// <remarks>
/// The stamps come from the CDC host's clock and are compared with this host's: the clocks must agree (as for the
/// coherence lag). A node without a change stream (no Redis) is never stale: <see cref="AlwaysFresh"/>.
/// </remarks>
internal sealed class NodeFreshness
{
    /// <summary>No stamp applied yet.</summary>
    private const long Unknown = long.MinValue;

    private readonly TimeProvider _time;
    private readonly long _maxStalenessMs;
    private readonly bool _tracked;
    private long _newestStampMs = Unknown;

    // Newest stamp + MaxStaleness: fresh while now is at most this (long.MinValue: stale, long.MaxValue: always fresh).
    private long _freshUntilMs;

    /// <summary>Creates the tracker of a node that tails its slot's stream: stale until the first stamp.</summary>
    public NodeFreshness(TimeProvider time, TimeSpan maxStaleness)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(maxStaleness, TimeSpan.Zero);
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _maxStalenessMs = (long)maxStaleness.TotalMilliseconds;
        _tracked = true;
        _freshUntilMs = long.MinValue;
    }

    private NodeFreshness()
    {
        _time = TimeProvider.System;
        _freshUntilMs = long.MaxValue;
    }

    /// <summary>A node without a change stream: never stale, staleness 0.</summary>
    public static NodeFreshness AlwaysFresh { get; } = new();

    /// <summary>The newest stamp applied, Unix ms (null before the first, and always for <see cref="AlwaysFresh"/>).</summary>
    public long? NewestStampMs => Volatile.Read(ref _newestStampMs) is var stamp && stamp != Unknown ? stamp : null;

    /// <summary>Whether the node is past its staleness bound now (or knows no stamp yet).</summary>
    public bool IsStale => _time.GetUtcNow().ToUnixTimeMilliseconds() > Volatile.Read(ref _freshUntilMs);

    /// <summary>Now minus the newest stamp applied, in seconds (never negative); +∞ before the first stamp; 0 when untracked.</summary>
    public double StalenessSeconds
    {
        get
        {
            if (!_tracked)
            {
                return 0;
            }

            var stamp = Volatile.Read(ref _newestStampMs);
            return stamp == Unknown ? double.PositiveInfinity : Math.Max(0, _time.GetUtcNow().ToUnixTimeMilliseconds() - stamp) / 1000.0;
        }
    }

    /// <summary>
    /// Records a stamp applied (a batch's commit time or a heartbeat's stamp, Unix ms); older stamps than the newest
    /// change nothing. One writer (the tailer), so a compare and two writes suffice.
    /// </summary>
    public void Observe(long stampMs)
    {
        if (!_tracked || stampMs <= Volatile.Read(ref _newestStampMs))
        {
            return;
        }

        Volatile.Write(ref _newestStampMs, stampMs);
        Volatile.Write(ref _freshUntilMs, stampMs > long.MaxValue - _maxStalenessMs ? long.MaxValue : stampMs + _maxStalenessMs);
    }
}
