namespace ReadHistory.Core.Filters;

/// <summary>
/// How a cache pool sizes its per-user filters. One instance per pool, shared by all its filters (immutable).
/// </summary>
/// <remarks>
/// Layer i of a scalable filter is designed for the rate P·(1 − r)·r^i (Almeida et al., 2007), so however many
/// layers a user grows, the compound rate stays below P = <see cref="TargetFalsePositiveRate"/>: Σ P(1 − r)r^i = P.
/// </remarks>
public sealed class BloomFilterOptions
{
    /// <summary>Most layers a filter grows to before it reports itself capped (the rate of layer 40 at r = 0.5 is ~10⁻¹⁴).</summary>
    public const int MaxLayers = 40;

    private readonly double _target = 0.01;
    private readonly double _headroom = 0.25;
    private readonly long _minimumCapacity = 1;
    private readonly double _growthFactor = 2;
    private readonly double _tighteningRatio = 0.5;
    private readonly long _maxBytes = 16L << 20;
    private LayerPlan?[]? _plans;
    private FilterShape? _shape;

    /// <summary>The pool's defaults: 1 % target, 25 % headroom, no minimum beyond one block, ×2 growth, r = 0.5, 16 MiB cap, seed 0.</summary>
    public static BloomFilterOptions Default { get; } = new();

    /// <summary>The false-positive rate a filter must stay under, however much it grows (default 0.01).</summary>
    public double TargetFalsePositiveRate
    {
        get => _target;
        init => _target = value > 0 && value < 0.5 ? value : throw new ArgumentOutOfRangeException(nameof(TargetFalsePositiveRate), value, "Expected a rate in (0, 0.5).");
    }

    /// <summary>Extra capacity over the row count at rebuild, as a fraction (default 0.25 = 25 %).</summary>
    public double Headroom
    {
        get => _headroom;
        init => _headroom = value >= 0 && value <= 100 ? value : throw new ArgumentOutOfRangeException(nameof(Headroom), value, "Expected a fraction in [0, 100].");
    }

    /// <summary>
    /// The smallest capacity a filter is sized for, whatever the row count (default 1: a one-block first layer takes all
    /// its block holds, ~44 items at 1 %, so a minimum above that only buys small users a second block).
    /// </summary>
    public long MinimumCapacity
    {
        get => _minimumCapacity;
        init => _minimumCapacity = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(MinimumCapacity), value, "Expected at least 1 item.");
    }

    /// <summary>Capacity of each new layer over the previous one (default 2).</summary>
    public double GrowthFactor
    {
        get => _growthFactor;
        init => _growthFactor = value >= 1 && value <= 16 ? value : throw new ArgumentOutOfRangeException(nameof(GrowthFactor), value, "Expected a factor in [1, 16].");
    }

    /// <summary>Rate of each new layer over the previous one, r (default 0.5; 0.5–0.9 is the useful range).</summary>
    public double TighteningRatio
    {
        get => _tighteningRatio;
        init => _tighteningRatio = value >= 0.1 && value <= 0.95 ? value : throw new ArgumentOutOfRangeException(nameof(TighteningRatio), value, "Expected a ratio in [0.1, 0.95].");
    }

    /// <summary>Most bytes of bit arrays one filter may hold; past it the filter reports itself capped (default 16 MiB).</summary>
    public long MaxBytes
    {
        get => _maxBytes;
        init => _maxBytes = value >= BlockProbe.BlockBytes ? value : throw new ArgumentOutOfRangeException(nameof(MaxBytes), value, $"Expected at least one block ({BlockProbe.BlockBytes} bytes).");
    }

    /// <summary>Seed of the key hash of new filters (a loaded snapshot keeps the seed it was written with).</summary>
    public ulong Seed { get; init; }

    /// <summary>
    /// Whether a rebuild may build the first layer as an immutable binary fuse layer (8-bit fingerprints, rate 0.39 %,
    /// ~9.3–11 bits per row against 14.5) with reads after the rebuild in grown blocked-Bloom layers; only where that is
    /// smaller than the Bloom layer by more than the first delta costs (about 900 rows and up), and only at targets whose
    /// first layer may have 0.39 % (P·(1 − r) ≥ 0.39 %: the default 1 % target, not 0.1 %). Default true.
    /// </summary>
    public bool FuseBase { get; init; } = true;

    /// <summary>The rate layer <paramref name="layer"/> is designed for: P·(1 − r)·r^layer.</summary>
    public double LayerFalsePositiveRate(int layer) =>
        TargetFalsePositiveRate * (1 - TighteningRatio) * Math.Pow(TighteningRatio, layer);

    /// <summary>The capacity a filter gets for <paramref name="rows"/> rows: rows · (1 + headroom), at least the minimum.</summary>
    public long CapacityFor(long rows) =>
        Math.Max(MinimumCapacity, (long)Math.Ceiling(Math.Max(0, rows) * (1 + Headroom)));

    /// <summary>The shape of every filter these options create (and of loaded snapshots that match it): shared, so a filter pays nothing for it.</summary>
    internal FilterShape Shape => _shape ??= new FilterShape(this, Seed, Plan(0).Probes, LayerFalsePositiveRate(0), shared: true);

    /// <summary>The layout of layer <paramref name="layer"/>, computed on first use and kept (a benign race: same result).</summary>
    internal LayerPlan Plan(int layer)
    {
        var plans = _plans ??= new LayerPlan?[MaxLayers];
        var plan = Volatile.Read(ref plans[layer]);
        if (plan is null)
        {
            plan = FilterMath.Plan(LayerFalsePositiveRate(layer));
            Volatile.Write(ref plans[layer], plan);
        }

        return plan;
    }
}
