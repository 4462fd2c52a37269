namespace ReadHistory.LoadGen.Measure;

/// <summary>
/// A latency histogram with fixed relative precision: values (in ticks of any unit) fall into 2^k magnitude
/// buckets, each split into 2^m linear sub-buckets, so a recorded value is reported within a relative error of
/// 2^-m (m = 7: under 0.8 %). Values below 2^m are exact. Recording is lock-free (Interlocked) and allocation-free.
/// </summary>
/// <remarks>
/// Layout: index = (exponent - m + 1) * 2^m + (value >> (exponent - m)) - 2^m for values ≥ 2^m, where exponent is the
/// position of the highest set bit; values &lt; 2^m map to themselves. HdrHistogram does the same; its package does
/// not restore here.
/// </remarks>
internal sealed class LogLinearHistogram
{
    private readonly int _subBits;
    private readonly long[] _counts;
    private long _total;
    private long _max;
    private long _min = long.MaxValue;

    /// <summary>A histogram with 2^<paramref name="subBucketBits"/> linear sub-buckets per power of two.</summary>
    public LogLinearHistogram(int subBucketBits = 7)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(subBucketBits, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(subBucketBits, 16);
        _subBits = subBucketBits;
        _counts = new long[(64 - subBucketBits + 1) << subBucketBits];
    }

    /// <summary>Upper bound of the relative error of any reported value.</summary>
    public double RelativeError => 1.0 / (1 << _subBits);

    /// <summary>Values recorded.</summary>
    public long Count => Interlocked.Read(ref _total);

    /// <summary>Largest value recorded (exact), 0 when empty.</summary>
    public long Max => Interlocked.Read(ref _max);

    /// <summary>Smallest value recorded (exact), 0 when empty.</summary>
    public long Min => Count == 0 ? 0 : Interlocked.Read(ref _min);

    /// <summary>Records one value; negative values count as 0.</summary>
    public void Record(long value)
    {
        if (value < 0)
        {
            value = 0;
        }

        Interlocked.Increment(ref _counts[IndexOf(value)]);
        Interlocked.Increment(ref _total);
        long seen;
        while (value > (seen = Interlocked.Read(ref _max)) && Interlocked.CompareExchange(ref _max, value, seen) != seen)
        {
        }

        while (value < (seen = Interlocked.Read(ref _min)) && Interlocked.CompareExchange(ref _min, value, seen) != seen)
        {
        }
    }

    /// <summary>The value at <paramref name="percentile"/> (0 .. 100): the midpoint of the bucket holding that rank, capped at <see cref="Max"/>.</summary>
    public long ValueAtPercentile(double percentile)
    {
        var total = Count;
        if (total == 0)
        {
            return 0;
        }

        var rank = (long)Math.Ceiling(Math.Clamp(percentile, 0, 100) / 100.0 * total);
        rank = Math.Max(rank, 1);
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += Interlocked.Read(ref _counts[i]);
            if (seen >= rank)
            {
                var (low, high) = BoundsOf(i);
                return Math.Clamp(low + ((high - low) / 2), Min, Max);
            }
        }

        return Max;
    }

    /// <summary>Adds every count of <paramref name="other"/> (same precision) into this one.</summary>
    public void Add(LogLinearHistogram other)
    {
        if (other._subBits != _subBits)
        {
            throw new ArgumentException("histograms of different precision", nameof(other));
        }

        for (var i = 0; i < _counts.Length; i++)
        {
            var c = Interlocked.Read(ref other._counts[i]);
            if (c != 0)
            {
                Interlocked.Add(ref _counts[i], c);
            }
        }

        Interlocked.Add(ref _total, other.Count);
        if (other.Count > 0)
        {
            _max = Math.Max(_max, other.Max);
            _min = Math.Min(_min, other.Min);
        }
    }

    /// <summary>Forgets every value.</summary>
    public void Reset()
    {
        Array.Clear(_counts);
        _total = 0;
        _max = 0;
        _min = long.MaxValue;
    }

    internal int IndexOf(long value)
    {
        var subCount = 1L << _subBits;
        if (value < subCount)
        {
            return (int)value;
        }

        var exponent = 63 - (int)long.LeadingZeroCount(value);
        var shift = exponent - _subBits;
        return (int)(((shift + 1) << _subBits) + (value >> shift) - subCount);
    }

    /// <summary>Inclusive lower and upper bounds of the values bucket <paramref name="index"/> holds.</summary>
    internal (long Low, long High) BoundsOf(int index)
    {
        var subCount = 1 << _subBits;
        if (index < subCount)
        {
            return (index, index);
        }

        var shift = (index >> _subBits) - 1;
        var sub = (index & (subCount - 1)) + subCount;
        var low = (long)sub << shift;
        return (low, low + (1L << shift) - 1);
    }
}
