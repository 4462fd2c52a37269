using ReadHistory.Core.Hashing;

namespace ReadHistory.Core.Filters;

/// <summary>
/// What a user filter's first layer needs besides its bits and its header (count, capacity, flags): the options it
/// grows by, the key hash, and the layer's design (probes, rate). One instance per pool (<see cref="BloomFilterOptions.Shape"/>) is shared by every
/// filter the pool builds, so the per-user cost is one reference, or nothing for a filter the cache holds as its bare
/// layer array. A snapshot from a peer with another design gets a private shape.
/// </summary>
internal sealed class FilterShape
{
    /// <summary>Creates a shape; <paramref name="shared"/> for the pool's own (see <see cref="BloomFilterOptions.Shape"/>).</summary>
    public FilterShape(BloomFilterOptions options, ulong seed, int probes, double designRate, bool shared)
    {
        Options = options;
        Hash = new ContentHash(seed);
        Probes = probes;
        DesignRate = designRate;
        IsShared = shared;
    }

    /// <summary>The options the filter grows by.</summary>
    public BloomFilterOptions Options { get; }

    /// <summary>The key hash.</summary>
    public ContentHash Hash { get; }

    /// <summary>Probes of the first layer.</summary>
    public int Probes { get; }

    /// <summary>Design rate of the first layer.</summary>
    public double DesignRate { get; }

    /// <summary>True for the pool's shared shape (the options' seed and design).</summary>
    public bool IsShared { get; }

    /// <summary>Heap bytes a private shape costs its filter (0 for a shared one).</summary>
    public long OwnBytes => IsShared ? 0 : FilterMemory.ShapeObjectBytes;

    /// <summary>Whether a first layer loaded from a snapshot matches this (shared) shape exactly.</summary>
    public bool Matches(ulong seed, int probes, double designRate) =>
        seed == Hash.Seed && probes == Probes && designRate.Equals(DesignRate);
}
