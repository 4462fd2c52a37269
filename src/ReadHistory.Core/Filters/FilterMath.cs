using System.Collections.Concurrent;

namespace ReadHistory.Core.Filters;

/// <summary>
/// The false-positive model of a blocked Bloom filter, and the sizing it gives: how many items a block may
/// hold, and how many probes to use, for a target rate.
/// </summary>
/// <remarks>
/// With n items over B blocks, the load of the block a query falls in is Poisson(λ = n / B). A block holding
/// j items has had jk uniform draws over its 512 bits; a query's k probes hit d distinct bits (d &lt; k when two
/// coincide: an occupancy distribution), and all d are set with probability Σ_i (−1)^i C(d, i) (1 − i/512)^(jk).
/// Both corrections matter at the 2 % level and cancel in part: the textbook independent-bits form
/// (1 − (1 − 1/512)^(jk))^k reads 1 % low at 10 bits/item, adding only the coinciding probes reads 2 % high.
/// This exact form agrees with a simulation of ideal (independent) probes within 0.1 % and with the
/// multiplicative probes of <see cref="BlockProbe"/> within 0.5 % (bench/RESULTS.md); sizing keeps a 2 % margin.
/// </remarks>
internal static class FilterMath
{
    private static readonly ConcurrentDictionary<double, LayerPlan> Plans = new();

    /// <summary>Sizing aims this much below the target: the probes measure up to 0.5 % above the model.</summary>
    private const double SizingMargin = 0.98;

    /// <summary>[k][d]: probability that k uniform probes of a block hit exactly d distinct bits.</summary>
    private static readonly double[][] DistinctProbes = BuildDistinctProbes();

    /// <summary>[k][i]: (−1)^i Σ_d P(d | k) C(d, i), the weight of (1 − i/512)^(jk) in the exact rate.</summary>
    private static readonly double[][] InclusionExclusion = BuildInclusionExclusion();

    /// <summary>Expected false-positive rate at λ items per block with k probes.</summary>
    public static double FalsePositiveRate(double itemsPerBlock, int probes)
    {
        if (itemsPerBlock <= 0)
        {
            return 0;
        }

        var exact = Exact(itemsPerBlock, probes);
        // The exact sum cancels terms of alternating sign as large as C(k, k/2); below 1e-6 its rounding error
        // would show, and the independent-bits form (≈ 2 % higher there, so on the safe side) takes over.
        return exact > 1e-6 ? exact : IndependentBits(itemsPerBlock, probes);
    }

    /// <summary>
    /// Σ_j Poisson(j; λ) Σ_i W[k][i] · x_i^j with x_i = (1 − i/512)^k: the probability that all d distinct probe bits of
    /// a query are set after jk uniform draws is Σ_i (−1)^i C(d, i) (1 − i/512)^(jk) (inclusion–exclusion), and
    /// W folds the distribution of d into it.
    /// </summary>
    private static double Exact(double itemsPerBlock, int probes)
    {
        var weights = InclusionExclusion[probes];
        Span<double> step = stackalloc double[BlockProbe.MaxProbes + 1];
        Span<double> power = stackalloc double[BlockProbe.MaxProbes + 1];
        for (var i = 0; i <= probes; i++)
        {
            step[i] = Math.Pow(1 - (i / (double)BlockProbe.BlockBits), probes);
            power[i] = 1;
        }

        var lambda = Math.Min(itemsPerBlock, 600);
        var last = (int)Math.Ceiling(lambda + (12 * Math.Sqrt(lambda)) + 24);
        var poisson = Math.Exp(-lambda);
        var rate = 0.0;
        for (var j = 0; j <= last; j++)
        {
            if (j > 0)
            {
                poisson *= lambda / j;
                for (var i = 0; i <= probes; i++)
                {
                    power[i] *= step[i];
                }
            }

            var hit = 0.0;
            for (var i = 0; i <= probes; i++)
            {
                hit += weights[i] * power[i];
            }

            rate += poisson * Math.Max(0, hit);
        }

        return rate;
    }

    /// <summary>The same sum with each bit set independently with probability s = 1 − (1 − 1/512)^(jk): Σ_j Poisson(j; λ) Σ_d P(d | k) s^d.</summary>
    private static double IndependentBits(double itemsPerBlock, int probes)
    {
        var distinct = DistinctProbes[probes];
        var lambda = Math.Min(itemsPerBlock, 600);
        var clear = Math.Pow(1 - (1.0 / BlockProbe.BlockBits), probes);
        var last = (int)Math.Ceiling(lambda + (12 * Math.Sqrt(lambda)) + 24);
        var poisson = Math.Exp(-lambda);
        var survive = 1.0;
        var rate = 0.0;
        for (var j = 0; j <= last; j++)
        {
            if (j > 0)
            {
                poisson *= lambda / j;
                survive *= clear;
            }

            var set = 1 - survive;
            var power = 1.0;
            var hit = 0.0;
            for (var d = 1; d <= probes; d++)
            {
                power *= set;
                hit += distinct[d] * power;
            }

            rate += poisson * hit;
        }

        return rate;
    }

    /// <summary>The probes and block load that reach <paramref name="rate"/> with the fewest bits per item.</summary>
    public static LayerPlan Plan(double rate)
    {
        if (!(rate > 0 && rate < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(rate), rate, "A false-positive rate is strictly between 0 and 1.");
        }

        if (Plans.TryGetValue(rate, out var plan))
        {
            return plan;
        }

        plan = ComputePlan(rate * SizingMargin);
        if (Plans.Count < 4096)
        {
            Plans.TryAdd(rate, plan);
        }

        return plan;
    }

    /// <summary>Blocks needed for <paramref name="capacity"/> items under a plan (at least one).</summary>
    public static long BlocksFor(long capacity, LayerPlan plan)
    {
        // Clamped, not cast blindly: a plan for an absurdly small rate would overflow the cast to long.
        var blocks = Math.Ceiling(capacity / plan.ItemsPerBlock);
        return blocks >= long.MaxValue / 2 ? long.MaxValue / 2 : Math.Max(1, (long)blocks);
    }

    /// <summary>Items that <paramref name="blocks"/> blocks hold under a plan.</summary>
    public static long CapacityOf(long blocks, LayerPlan plan) => (long)Math.Floor(blocks * plan.ItemsPerBlock);

    private static double[][] BuildDistinctProbes()
    {
        var table = new double[BlockProbe.MaxProbes + 1][];
        var current = new double[BlockProbe.MaxProbes + 1];
        current[0] = 1;
        table[0] = (double[])current.Clone();
        for (var k = 1; k <= BlockProbe.MaxProbes; k++)
        {
            var next = new double[BlockProbe.MaxProbes + 1];
            for (var d = 0; d < k; d++)
            {
                next[d] += current[d] * d / BlockProbe.BlockBits;
                next[d + 1] += current[d] * (BlockProbe.BlockBits - d) / BlockProbe.BlockBits;
            }

            current = next;
            table[k] = (double[])current.Clone();
        }

        return table;
    }

    private static double[][] BuildInclusionExclusion()
    {
        var table = new double[BlockProbe.MaxProbes + 1][];
        for (var k = 0; k <= BlockProbe.MaxProbes; k++)
        {
            table[k] = new double[BlockProbe.MaxProbes + 1];
            for (var i = 0; i <= k; i++)
            {
                var sum = 0.0;
                for (var d = i; d <= k; d++)
                {
                    sum += DistinctProbes[k][d] * Binomial(d, i);
                }

                table[k][i] = (i % 2 == 0 ? 1 : -1) * sum;
            }
        }

        return table;
    }

    private static double Binomial(int n, int r)
    {
        var value = 1.0;
        for (var i = 1; i <= r; i++)
        {
            value = value * (n - r + i) / i;
        }

        return value;
    }

    private static LayerPlan ComputePlan(double rate)
    {
        var best = new LayerPlan(0, 1);
        for (var k = 1; k <= BlockProbe.MaxProbes; k++)
        {
            // The rate grows with the load: bisect for the largest load that still meets the target.
            double low = 0, high = BlockProbe.BlockBits;
            if (FalsePositiveRate(high, k) <= rate)
            {
                low = high;
            }
            else
            {
                for (var i = 0; i < 60 && high - low > low * 1e-7; i++)
                {
                    var mid = (low + high) / 2;
                    if (FalsePositiveRate(mid, k) <= rate)
                    {
                        low = mid;
                    }
                    else
                    {
                        high = mid;
                    }
                }
            }

            if (low > best.ItemsPerBlock)
            {
                best = new LayerPlan(low, k);
            }
        }

        return best;
    }
}

/// <summary>How a layer is laid out for a target rate: items per 512-bit block and probes per item.</summary>
/// <param name="ItemsPerBlock">The largest mean block load that meets the rate.</param>
/// <param name="Probes">Bits set per item.</param>
internal sealed record LayerPlan(double ItemsPerBlock, int Probes)
{
    /// <summary>Bits per item at full capacity.</summary>
    public double BitsPerItem => BlockProbe.BlockBits / ItemsPerBlock;
}
