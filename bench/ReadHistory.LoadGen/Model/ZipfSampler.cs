namespace ReadHistory.LoadGen.Model;

/// <summary>
/// Samples ranks 0 .. n-1 with probability proportional to 1 / (rank + 1)^s from a precomputed cumulative table
/// (8 bytes per user: a million users take 8 MB), by binary search on one uniform draw.
/// </summary>
internal sealed class ZipfSampler
{
    private readonly double[] _cumulative;

    /// <summary>A sampler over <paramref name="count"/> ranks with skew <paramref name="skew"/> (0 = uniform).</summary>
    public ZipfSampler(int count, double skew)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(skew);
        _cumulative = new double[count];
        double sum = 0;
        for (var i = 0; i < count; i++)
        {
            sum += 1.0 / Math.Pow(i + 1, skew);
            _cumulative[i] = sum;
        }

        for (var i = 0; i < count; i++)
        {
            _cumulative[i] /= sum;
        }

        Skew = skew;
    }

    /// <summary>The skew s.</summary>
    public double Skew { get; }

    /// <summary>Ranks in the table.</summary>
    public int Count => _cumulative.Length;

    /// <summary>Probability of <paramref name="rank"/>.</summary>
    public double Probability(int rank) => rank == 0 ? _cumulative[0] : _cumulative[rank] - _cumulative[rank - 1];

    /// <summary>The rank for a uniform draw <paramref name="u"/> in [0, 1).</summary>
    public int Sample(double u)
    {
        var index = Array.BinarySearch(_cumulative, u);
        index = index >= 0 ? index : ~index;
        return Math.Min(index, _cumulative.Length - 1);
    }
}
