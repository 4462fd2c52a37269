namespace ReadHistory.LoadGen.Model;

/// <summary>
/// Bounded Pareto distribution on [min, max] with shape alpha, sampled by inverting its CDF
/// F(x) = (1 - (min/x)^alpha) / (1 - (min/max)^alpha). Most users are light, a few approach max.
/// </summary>
internal sealed class BoundedPareto
{
    private readonly double _tailAtMax;

    /// <summary>The distribution on [<paramref name="min"/>, <paramref name="max"/>] with shape <paramref name="alpha"/>.</summary>
    public BoundedPareto(double min, double max, double alpha)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(min, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(max, min);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(alpha);
        Min = min;
        Max = max;
        Alpha = alpha;
        _tailAtMax = Math.Pow(min / max, alpha);
    }

    /// <summary>Lower bound.</summary>
    public double Min { get; }

    /// <summary>Upper bound.</summary>
    public double Max { get; }

    /// <summary>Shape.</summary>
    public double Alpha { get; }

    /// <summary>The value at quantile <paramref name="q"/> in [0, 1).</summary>
    public double Quantile(double q) => Min / Math.Pow(1 - (q * (1 - _tailAtMax)), 1 / Alpha);

    /// <summary>The mean.</summary>
    public double Mean
    {
        get
        {
            if (Math.Abs(Alpha - 1) < 1e-9)
            {
                return Min * Math.Log(Max / Min) / (1 - _tailAtMax);
            }

            return Math.Pow(Min, Alpha) / (1 - _tailAtMax) * Alpha / (Alpha - 1) * (Math.Pow(Min, 1 - Alpha) - Math.Pow(Max, 1 - Alpha));
        }
    }
}
