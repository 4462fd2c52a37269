using BenchmarkDotNet.Attributes;
using ReadHistory.Core.Filters;

namespace ReadHistory.Benchmarks.Filters;

/// <summary>Where the filters under test live: one filter that stays in cache, or enough of them to spill to DRAM.</summary>
public enum Placement
{
    /// <summary>One filter, checked again and again: L1 / L2 resident (1 M items ≈ 1.5 MB is L2/L3).</summary>
    Cache,

    /// <summary>Filters totalling ≥ 256 MiB, a different one per call, in a scattered order: every probe misses the caches.</summary>
    Dram,
}

/// <summary>Builds the filters and the 400-id request batches once per benchmark case.</summary>
public abstract class FilterBenchmarkBase
{
    /// <summary>Ids per request, like the feed recommender's Check.</summary>
    protected const int BatchSize = 400;

    private const long DramWorkingSetBytes = 256L << 20;
    private const int BatchCount = 64;

    /// <summary>Items each filter holds (its row count at rebuild).</summary>
    [Params(1_000, 10_000, 100_000, 1_000_000)]
    public int Items { get; set; }

    /// <summary>Cache-resident or DRAM-resident.</summary>
    [Params(Placement.Cache, Placement.Dram)]
    public Placement Placement { get; set; }

    /// <summary>The filters; one for <see cref="Placement.Cache"/>.</summary>
    protected UserFilter[] Filters { get; private set; } = [];

    /// <summary>Request batches: 10 % ids the user read, 90 % random unread ids.</summary>
    protected ulong[][] Batches { get; private set; } = [];

    /// <summary>The bitmap a check writes into.</summary>
    protected byte[] Bitmap { get; } = new byte[(BatchSize + 7) / 8];

    /// <summary>Builds the filters and the batches.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var options = new BloomFilterOptions { Seed = 7 };
        var rows = Enumerable.Range(0, Items).Select(i => new ContentKey(1, Member(i))).ToArray();
        var first = UserFilter.Rebuild(rows, options);
        var count = Placement == Placement.Cache ? 1 : (int)Math.Max(1, DramWorkingSetBytes / first.BitBytes);
        Filters = new UserFilter[count];
        Filters[0] = first;
        for (var i = 1; i < count; i++)
        {
            Filters[i] = UserFilter.Rebuild(rows, options);
        }

        var random = new Random(42);
        Batches = new ulong[BatchCount][];
        for (var b = 0; b < BatchCount; b++)
        {
            Batches[b] = new ulong[BatchSize];
            for (var i = 0; i < BatchSize; i++)
            {
                Batches[b][i] = random.Next(10) == 0 ? Member(random.Next(Items)) : (ulong)random.NextInt64() | (1UL << 63);
            }
        }
    }

    /// <summary>The filter for call number <paramref name="call"/>: scattered over all filters so no hardware prefetcher guesses it.</summary>
    protected UserFilter FilterFor(int call) => Filters[(int)((uint)(call * 7919) % (uint)Filters.Length)];

    private static ulong Member(int i) => ((ulong)i * 2_654_435_761UL) + 12_345;
}
