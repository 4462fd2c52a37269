using System.Threading.RateLimiting;

namespace ReadHistory.Server.Api.Admission;

/// <summary>
/// A concurrency limiter whose bound follows the latency of the calls it admits, for a process whose wait is its own
/// CPU (a proxy on shared cores): each window of <see cref="Interval"/> the fastest call admitted and finished in it is
/// compared with the target. Fastest above the target means every call waited, a standing queue (CoDel's test): the
/// bound falls by a quarter, down to the floor. Otherwise, if the window found the bound full, it rises by an eighth, up
/// to the configured maximum. Nothing queues: past the bound a lease is refused at once, as the fixed limiter does.
/// </summary>
/// <remarks>
/// The time measured is a lease's: from admission to the end of the call, so it holds the node's answer and the
/// proxy's own scheduling delays on both sides of it, not the wait before the interceptor ran. A window in which no
/// call finished changes nothing.
/// </remarks>
internal sealed class AdaptiveConcurrencyLimiter : RateLimiter
{
    /// <summary>The length of a measuring window.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    /// <summary>The lowest bound the limiter falls to.</summary>
    public const int Floor = 4;

    private static readonly RateLimitLease Refused = new RefusedLease();
    private readonly TimeProvider _time;
    private readonly int _maximum;
    private readonly long _targetTicks;
    private readonly long _intervalTicks;
    private int _limit;
    private int _inFlight;
    private int _windowFull;
    private long _windowFastest = long.MaxValue;
    private long _windowEnd;
    private long _admitted;
    private long _refused;
    private long _idleSince;

    /// <summary>A limiter of at most <paramref name="maximum"/> permits, starting there, steering to <paramref name="target"/>.</summary>
    public AdaptiveConcurrencyLimiter(int maximum, TimeSpan target, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maximum, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(target, TimeSpan.Zero);
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        _maximum = maximum;
        _limit = maximum;
        _targetTicks = (long)(target.TotalSeconds * time.TimestampFrequency);
        _intervalTicks = (long)(Interval.TotalSeconds * time.TimestampFrequency);
        _idleSince = time.GetTimestamp();
        _windowEnd = _idleSince + _intervalTicks;
    }

    /// <summary>The bound now.</summary>
    public int Limit => Volatile.Read(ref _limit);

    /// <summary>Permits held now.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <inheritdoc />
    public override TimeSpan? IdleDuration => InFlight > 0 ? null : _time.GetElapsedTime(Volatile.Read(ref _idleSince));

    /// <inheritdoc />
    public override RateLimiterStatistics? GetStatistics() => new()
    {
        CurrentAvailablePermits = Math.Max(0, Limit - InFlight),
        CurrentQueuedCount = 0,
        TotalFailedLeases = Interlocked.Read(ref _refused),
        TotalSuccessfulLeases = Interlocked.Read(ref _admitted),
    };

    /// <inheritdoc />
    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(permitCount, 1);
        var limit = Volatile.Read(ref _limit);
        var inFlight = Interlocked.Increment(ref _inFlight);
        if (inFlight > limit)
        {
            Interlocked.Decrement(ref _inFlight);
            Interlocked.Increment(ref _refused);
            Volatile.Write(ref _windowFull, 1);
            return Refused;
        }

        if (inFlight == limit)
        {
            Volatile.Write(ref _windowFull, 1);
        }

        Interlocked.Increment(ref _admitted);
        return new Lease(this, _time.GetTimestamp());
    }

    /// <inheritdoc />
    protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken) =>
        ValueTask.FromResult(AttemptAcquireCore(permitCount));

    private void Release(long admittedAt)
    {
        var now = _time.GetTimestamp();
        if (Interlocked.Decrement(ref _inFlight) == 0)
        {
            Volatile.Write(ref _idleSince, now);
        }

        var took = now - admittedAt;
        var fastest = Volatile.Read(ref _windowFastest);
        while (took < fastest)
        {
            var seen = Interlocked.CompareExchange(ref _windowFastest, took, fastest);
            if (seen == fastest)
            {
                break;
            }

            fastest = seen;
        }

        var end = Volatile.Read(ref _windowEnd);
        if (now >= end && Interlocked.CompareExchange(ref _windowEnd, now + _intervalTicks, end) == end)
        {
            Adjust();
        }
    }

    // One thread per window (the one that moved its end): judge the window, start the next.
    private void Adjust()
    {
        var fastest = Interlocked.Exchange(ref _windowFastest, long.MaxValue);
        var full = Interlocked.Exchange(ref _windowFull, 0) == 1;
        var limit = Volatile.Read(ref _limit);
        if (fastest > _targetTicks)
        {
            limit = Math.Max(Math.Min(Floor, _maximum), limit - Math.Max(1, limit / 4));
        }
        else if (full)
        {
            limit = Math.Min(_maximum, limit + Math.Max(1, limit / 8));
        }

        Volatile.Write(ref _limit, limit);
    }

    private sealed class Lease(AdaptiveConcurrencyLimiter owner, long admittedAt) : RateLimitLease
    {
        private int _released;

        public override bool IsAcquired => true;

        public override IEnumerable<string> MetadataNames => [];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = null;
            return false;
        }

        protected override void Dispose(bool disposing)
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                owner.Release(admittedAt);
            }

            base.Dispose(disposing);
        }
    }

    private sealed class RefusedLease : RateLimitLease
    {
        public override bool IsAcquired => false;

        public override IEnumerable<string> MetadataNames => [];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = null;
            return false;
        }
    }
}
