namespace ReadHistory.Server.Cache;

/// <summary>
/// The pool-wide row-rate budget of rebuild scans: every rebuild charges the rows it consumed, and a rebuild that ran
/// ahead of the budget waits before it reads more. A waiting scan reads nothing, so the database and this node stop
/// spending CPU on it and the point queries of misses keep their latency (a rebuild is never urgent: the user is
/// answered by point queries meanwhile).
/// </summary>
/// <remarks>
/// A virtual clock: each charge of n rows moves the time at which the budget is next free by n / rate; a charge
/// that finds it more than <see cref="Slack"/> in the future waits out the difference. Rebuilds share one clock, so
/// the budget holds for the pool whatever the rebuild concurrency. Rate 0 turns the throttle off.
/// </remarks>
internal sealed class RebuildThrottle(long rowsPerSecond, TimeProvider time)
{
    /// <summary>How far ahead of its budget a scan may run before it waits (keeps the waits few and not too short).</summary>
    public static readonly TimeSpan Slack = TimeSpan.FromMilliseconds(4);

    private readonly Lock _gate = new();
    private readonly double _ticksPerRow = rowsPerSecond > 0 ? time.TimestampFrequency / (double)rowsPerSecond : 0;
    private readonly long _slackTicks = (long)(Slack.TotalSeconds * time.TimestampFrequency);
    private long _freeAt;
    private long _waitedTicks;

    /// <summary>Rows per second all rebuilds of the pool may scan together; 0 = unlimited.</summary>
    public long RowsPerSecond { get; } = rowsPerSecond;

    /// <summary>Seconds rebuilds spent waiting for the budget since start.</summary>
    public double WaitedSeconds => Interlocked.Read(ref _waitedTicks) / (double)time.TimestampFrequency;

    /// <summary>Charges <paramref name="rows"/> scanned rows; completes at once while within budget, else after the wait that brings the pool back to it.</summary>
    public ValueTask ChargeAsync(int rows, CancellationToken cancellationToken)
    {
        if (_ticksPerRow == 0 || rows <= 0)
        {
            return ValueTask.CompletedTask;
        }

        long ahead;
        lock (_gate)
        {
            var now = time.GetTimestamp();
            _freeAt = Math.Max(_freeAt, now) + (long)(rows * _ticksPerRow);
            ahead = _freeAt - now - _slackTicks;
        }

        if (ahead <= 0)
        {
            return ValueTask.CompletedTask;
        }

        Interlocked.Add(ref _waitedTicks, ahead);
        return new ValueTask(Task.Delay(TimeSpan.FromSeconds(ahead / (double)time.TimestampFrequency), time, cancellationToken));
    }
}
