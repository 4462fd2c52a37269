namespace ReadHistory.Telemetry;

/// <summary>
/// The running state of one label set of one instrument: a value (sum or last value), or histogram
/// bucket counts and a sum. Updated with interlocked operations only, so recording never takes a lock.
/// </summary>
internal sealed class MetricSeries
{
    private readonly long[] _bucketCounts;
    private double _value;

    /// <summary>Creates a series; <paramref name="bucketCount"/> is the number of finite bounds plus one, or zero for a scalar.</summary>
    public MetricSeries(TagSet tags, int bucketCount)
    {
        Tags = tags;
        _bucketCounts = bucketCount == 0 ? [] : new long[bucketCount];
    }

    /// <summary>The labels of this series.</summary>
    public TagSet Tags { get; }

    /// <summary>The current value: the running sum, the last value set, or a histogram's sum of observations.</summary>
    public double Value => Volatile.Read(ref _value);

    /// <summary>Adds to the value (counters, up-down counters).</summary>
    public void Add(double delta) => InterlockedAdd(ref _value, delta);

    /// <summary>Replaces the value (gauges, observed totals).</summary>
    public void Set(double value) => Volatile.Write(ref _value, value);

    /// <summary>Counts an observation in its bucket: the first whose upper bound is at least the value, else +Inf.</summary>
    public void Observe(double value, double[] upperBounds)
    {
        var low = 0;
        var high = upperBounds.Length;
        while (low < high)
        {
            var middle = (low + high) >>> 1;
            if (value <= upperBounds[middle])
            {
                high = middle;
            }
            else
            {
                low = middle + 1;
            }
        }

        Interlocked.Increment(ref _bucketCounts[low]);
        InterlockedAdd(ref _value, value);
    }

    /// <summary>Copies the per-bucket (not cumulative) counts; the last is the +Inf bucket.</summary>
    public void CopyBucketCounts(Span<long> destination)
    {
        for (var i = 0; i < _bucketCounts.Length; i++)
        {
            destination[i] = Volatile.Read(ref _bucketCounts[i]);
        }
    }

    private static void InterlockedAdd(ref double location, double delta)
    {
        var current = Volatile.Read(ref location);
        while (true)
        {
            var seen = Interlocked.CompareExchange(ref location, current + delta, current);
            // Compare bits, not values: NaN never equals itself and would spin forever.
            if (BitConverter.DoubleToInt64Bits(seen) == BitConverter.DoubleToInt64Bits(current))
            {
                return;
            }

            current = seen;
        }
    }
}
