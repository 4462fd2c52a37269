using ReadHistory.Core.Routing;

namespace ReadHistory.LoadGen.Model;

/// <summary>
/// The deterministic world of a run: users, their history sizes and every id they have read, computed from the seed
/// on demand so the ground truth of millions of preloaded rows takes no memory.
/// </summary>
/// <remarks>
/// Read ids (preloaded or written during the run) are odd; never-written candidates are even, so an even id reported
/// read is a false positive by construction. Ids stay below 2^61 so they fit a signed BIGINT and a Redis integer.
/// </remarks>
internal sealed class WorkloadModel
{
    private const ulong IdMask = (1UL << 61) - 1;
    private readonly BoundedPareto _sizes;

    /// <summary>The model for <paramref name="options"/>.</summary>
    public WorkloadModel(WorkloadOptions options)
    {
        Options = options;
        Popularity = new ZipfSampler(options.Users, options.ZipfSkew);
        _sizes = new BoundedPareto(options.HistoryMin, options.HistoryMax, options.HistoryAlpha);
    }

    /// <summary>The parameters.</summary>
    public WorkloadOptions Options { get; }

    /// <summary>User popularity by rank.</summary>
    public ZipfSampler Popularity { get; }

    /// <summary>The history-size distribution (heavy users aside).</summary>
    public BoundedPareto Sizes => _sizes;

    /// <summary>User id of rank <paramref name="rank"/>.</summary>
    public ulong UserId(int rank) => Options.UserIdBase + (ulong)rank;

    /// <summary>Rank of <paramref name="userId"/>.</summary>
    public int RankOf(ulong userId) => (int)(userId - Options.UserIdBase);

    /// <summary>Rows preloaded for the user of rank <paramref name="rank"/>; independent of popularity.</summary>
    public int HistorySize(int rank)
    {
        var h = Mix64.Combine(Options.Seed ^ 0x5157_5a1e_0000_0001UL, (ulong)rank);
        if (ToUnit(h) < Options.HeavyShare)
        {
            return Options.HistoryMax;
        }

        return (int)Math.Floor(_sizes.Quantile(ToUnit(Mix64.Finalize(h))));
    }

    /// <summary>Total preloaded rows.</summary>
    public long TotalRows()
    {
        long total = 0;
        for (var r = 0; r < Options.Users; r++)
        {
            total += HistorySize(r);
        }

        return total;
    }

    /// <summary>The <paramref name="index"/>-th id user <paramref name="userId"/> has read (preload: index &lt; size; writes: above).</summary>
    public ulong ReadId(ulong userId, long index) =>
        (Mix64.Combine(Mix64.Combine(Options.Seed, userId), (ulong)index) & IdMask) | 1UL;

    /// <summary>An id nobody has read, from a random word.</summary>
    public static ulong UnreadId(ulong random) => (random & IdMask) & ~1UL;

    /// <summary>A uniform double in [0, 1) from a 64-bit word.</summary>
    public static double ToUnit(ulong word) => (word >> 11) * (1.0 / (1UL << 53));
}
