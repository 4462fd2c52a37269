using System.Collections.Concurrent;
using Grpc.Core;
using HdrHistogram;

namespace ReadHistory.LoadGen.Running;

/// <summary>Outcomes of one call stream (checks, batch checks or writes): latency from the intended start, errors by status.</summary>
internal sealed class StreamStats(string name, TimeProvider timeProvider)
{
    /// <summary>Longest latency told apart (µs): an hour; a slower call is recorded as an hour.</summary>
    internal const long HighestMicros = 3_600_000_000;

    // Three significant digits: every reported latency is within 0.1 % of the true one.
    private const int Precision = 3;

    private readonly ConcurrentDictionary<string, long> _errors = new();

    // The progress lines' histogram: HdrHistogram's Recorder swaps interval histograms without stopping writers.
    private readonly Recorder _interval = HistogramFactory.With64BitBucketSize().WithValuesFrom(1).WithValuesUpTo(HighestMicros).WithPrecisionOf(Precision)
        .WithThreadSafeWrites().WithThreadSafeReads().Create();

    private HistogramBase? _lastInterval;
    private long _measureFrom = long.MaxValue;
    private long _measureTo = long.MaxValue;
    private long _completed;
    private long _items;
    private long _dropped;
    private long _offered;
    private long _intervalCompleted;
    private long _refused;

    /// <summary>Stream name (<c>check</c>, <c>batch-check</c>, <c>write</c>).</summary>
    public string Name { get; } = name;

    /// <summary>Latencies (µs) of successful calls intended inside the measured period (recorded from many threads).</summary>
    public HistogramBase Latency { get; } = HistogramFactory.With64BitBucketSize().WithValuesFrom(1).WithValuesUpTo(HighestMicros).WithPrecisionOf(Precision)
        .WithThreadSafeWrites().Create();

    /// <summary>
    /// Latencies (µs) of the same calls from the start of the attempt that was admitted: the intended start for a call
    /// admitted at once, the retry's start for one refused for load first (the refusal and the wait left out).
    /// </summary>
    public HistogramBase AdmittedLatency { get; } = HistogramFactory.With64BitBucketSize().WithValuesFrom(1).WithValuesUpTo(HighestMicros).WithPrecisionOf(Precision)
        .WithThreadSafeWrites().Create();

    /// <summary>Successful calls in the measured period.</summary>
    public long Completed => Interlocked.Read(ref _completed);

    /// <summary>Items (ids checked, rows written) of successful calls in the measured period.</summary>
    public long Items => Interlocked.Read(ref _items);

    /// <summary>Calls due in the measured period that could not be issued (in-flight cap).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Calls intended inside the measured period (issued or not).</summary>
    public long Offered => Interlocked.Read(ref _offered);

    /// <summary>
    /// Refusals for load (RESOURCE_EXHAUSTED with retry-after-ms) in the measured period, whether the retry then
    /// succeeded or not; a refusal left unretried also counts as a failure.
    /// </summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>Retries after a refusal for load: one, as a caller with a deadline can afford.</summary>
    public const int MaxRetries = 1;

    /// <summary>Failed calls by status.</summary>
    public IReadOnlyDictionary<string, long> Errors => _errors;

    /// <summary>Starts the measured period at <paramref name="from"/> and ends it at <paramref name="to"/> (timestamps).</summary>
    public void SetWindow(long from, long to)
    {
        Volatile.Write(ref _measureFrom, from);
        Volatile.Write(ref _measureTo, to);
    }

    /// <summary>True when a call intended at <paramref name="intended"/> counts.</summary>
    public bool Measured(long intended) => intended >= Volatile.Read(ref _measureFrom) && intended < Volatile.Read(ref _measureTo);

    /// <summary>Now, on this stream's clock (a timestamp).</summary>
    public long Timestamp() => timeProvider.GetTimestamp();

    /// <summary>Records a successful call admitted at its first attempt.</summary>
    public void Success(long intended, int items) => Success(intended, items, intended);

    /// <summary>Records a successful call whose admitted attempt started at <paramref name="attemptStarted"/>.</summary>
    public void Success(long intended, int items, long attemptStarted)
    {
        var now = timeProvider.GetTimestamp();
        var micros = Math.Clamp((long)((now - intended) * 1_000_000.0 / timeProvider.TimestampFrequency), 0, HighestMicros);
        _interval.RecordValue(micros);
        Interlocked.Increment(ref _intervalCompleted);
        if (Measured(intended))
        {
            Latency.RecordValue(micros);
            AdmittedLatency.RecordValue(Math.Clamp((long)((now - attemptStarted) * 1_000_000.0 / timeProvider.TimestampFrequency), 0, HighestMicros));
            Interlocked.Increment(ref _completed);
            Interlocked.Add(ref _items, items);
            Interlocked.Increment(ref _offered);
        }
    }

    /// <summary>Records a failed call.</summary>
    public void Failure(long intended, Exception exception)
    {
        if (Measured(intended))
        {
            Interlocked.Increment(ref _offered);
            var key = exception is RpcException rpc ? rpc.StatusCode.ToString() : exception.GetType().Name;
            _errors.AddOrUpdate(key, 1, static (_, n) => n + 1);
        }
    }

    /// <summary>
    /// The wait before retrying a call (attempt <paramref name="attempt"/>, intended at <paramref name="intended"/>)
    /// that failed with <paramref name="exception"/>: the server's retry-after-ms of a refusal for load, while retries
    /// are left and the wait ends within <paramref name="budget"/> of the intended start; null = give up (record the
    /// failure). Counts every refusal for load it is shown.
    /// </summary>
    public TimeSpan? RetryWait(long intended, Exception exception, int attempt, TimeSpan? budget)
    {
        if (exception is not RpcException { StatusCode: StatusCode.ResourceExhausted } rpc
            || !long.TryParse(rpc.Trailers.GetValue("retry-after-ms"), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var milliseconds))
        {
            return null;
        }

        if (Measured(intended))
        {
            Interlocked.Increment(ref _refused);
        }

        var wait = TimeSpan.FromMilliseconds(milliseconds);
        return attempt < MaxRetries && budget is { } b && timeProvider.GetElapsedTime(intended) + wait < b ? wait : null;
    }

    /// <summary>Waits <paramref name="wait"/> on this stream's clock.</summary>
    public Task DelayAsync(TimeSpan wait) => Task.Delay(wait, timeProvider);

    /// <summary>Records a call not issued.</summary>
    public void Drop(long intended)
    {
        if (Measured(intended))
        {
            Interlocked.Increment(ref _offered);
            Interlocked.Increment(ref _dropped);
        }
    }

    /// <summary>Latencies (µs) since the last call of this method (the histogram returned is reused by the next call).</summary>
    public HistogramBase TakeInterval() => _lastInterval = _interval.GetIntervalHistogram(_lastInterval);

    /// <summary>The figures of the measured period, <paramref name="seconds"/> long.</summary>
    public StreamResult Summarise(double seconds)
    {
        var h = Latency;
        return new StreamResult(Name, Offered / seconds, Completed / seconds, Items / seconds, Completed, Dropped,
            new SortedDictionary<string, long>(Errors.ToDictionary(p => p.Key, p => p.Value), StringComparer.Ordinal),
            Milliseconds(h, 50), Milliseconds(h, 90), Milliseconds(h, 99), Milliseconds(h, 99.9), h.GetMaxValue() / 1000.0, Refused, Milliseconds(AdmittedLatency, 99));
    }

    /// <summary>The latency at <paramref name="percentile"/> in ms; 0 when nothing was recorded (HdrHistogram throws then).</summary>
    public static double Milliseconds(HistogramBase histogram, double percentile)
    {
        ArgumentNullException.ThrowIfNull(histogram);
        return histogram.TotalCount == 0 ? 0 : histogram.GetValueAtPercentile(percentile) / 1000.0;
    }

    /// <summary>Calls completed since the last call of this method.</summary>
    public long TakeIntervalCompleted() => Interlocked.Exchange(ref _intervalCompleted, 0);

    /// <summary>Total errors.</summary>
    public long ErrorCount => _errors.Values.Sum();
}
