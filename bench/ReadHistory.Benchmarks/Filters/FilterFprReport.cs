using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using ReadHistory.Core.Filters;
using ReadHistory.Core.Hashing;

namespace ReadHistory.Benchmarks.Filters;

/// <summary>
/// Console mode <c>filter-fpr</c>: measured false-positive rates of the probe schemes at 8, 10, 12 and 16 bits
/// per item beside the standard Bloom filter and the 2^-b floor, and the bits per item a 1 % target uses.
/// Prints markdown tables for bench/RESULTS.md.
/// </summary>
internal static class FilterFprReport
{
    private const int Items = 1_000_000;
    private const int Queries = 4_000_000;
    private static readonly int[] BitsPerItem = [8, 10, 12, 16];

    public static void Run()
    {
        var clock = Stopwatch.StartNew();
        var members = Hashes(Items, 1);
        var strangers = Hashes(Queries, 2);

        Console.WriteLine("### Probe schemes, measured false-positive rate (%), 1 M items, 4 M absent queries");
        Console.WriteLine();
        Console.WriteLine("| bits/item | standard Bloom, best k (exact) | floor 2^-b | split-block 8×64 (k = 8) | local k=4 | k=5 | k=6 | k=7 | k=8 | k=9 | k=10 | k=12 | model's best k (model %) |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var b in BitsPerItem)
        {
            var blocks = (int)Math.Round(Items * (double)b / BlockedBloomFilter.BlockBits);
            var row = new List<string> { F(b), Pct(StandardBloomOptimum(b)), Pct(Math.Pow(2, -b)) };

            var split = new SplitBlockFilter(blocks);
            foreach (var h in members)
            {
                split.Add(h);
            }

            row.Add(Pct(Measure(split.MightContain, strangers)));
            foreach (var k in new[] { 4, 5, 6, 7, 8, 9, 10, 12 })
            {
                var local = BlockedBloomFilter.CreateSized(blocks, k, Items, 0.01);
                foreach (var h in members)
                {
                    local.Add(h);
                }

                row.Add(Pct(Measure(local.MightContain, strangers)));
            }

            var best = Enumerable.Range(1, 16).Select(k => (k, rate: BlockedBloomFilter.ModelFalsePositiveRate(Items / (double)blocks, k))).MinBy(x => x.rate);
            row.Add($"{best.k} ({Pct(best.rate)})");
            Console.WriteLine("| " + string.Join(" | ", row) + " |");
        }

        Console.WriteLine();
        Console.WriteLine("### Chosen scheme with real keys (ContentHash of type 1, sequential ids; absent = the next ids)");
        Console.WriteLine();
        Console.WriteLine("| target | probes | bits/item at capacity | measured % at capacity | model % |");
        Console.WriteLine("|---|---|---|---|---|");
        var hash = new ContentHash(0x5EED);
        foreach (var target in new[] { 0.02, 0.01, 0.005, 0.001 })
        {
            var filter = BlockedBloomFilter.Create(Items, target);
            for (ulong id = 0; id < Items; id++)
            {
                filter.Add(hash.Compute(1, id));
            }

            var hits = 0;
            for (ulong id = Items; id < Items + Queries; id++)
            {
                hits += filter.MightContain(hash.Compute(1, id)) ? 1 : 0;
            }

            Console.WriteLine($"| {Pct(target)} % | {filter.Probes} | {F(filter.BitBytes * 8.0 / Items)} | {Pct(hits / (double)Queries)} | {Pct(filter.EstimatedFalsePositiveRate)} |");
        }

        Console.WriteLine();
        Console.WriteLine("### UserFilter at the default options (1 % target, r = 0.5 so layer 0 is designed for 0.5 %, 25 % headroom)");
        Console.WriteLine();
        Console.WriteLine("| rows at rebuild | bits/row at rebuild (bit arrays) | bits/row incl. object overhead | bits/item at capacity | measured % at rebuild | measured % at capacity | model % at capacity |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        foreach (var rows in new[] { 100, 1_000, 10_000, 100_000, 1_000_000 })
        {
            var filter = UserFilter.Rebuild(rows, Keys(0, rows), BloomFilterOptions.Default);
            var bits = filter.BitBytes * 8.0;
            var atRebuild = MeasureUser(filter, rows);
            var capacity = filter.Capacity;
            filter.AddMany(1, Ids(rows, (int)capacity - rows));
            var atCapacity = MeasureUser(filter, (int)capacity);
            Console.WriteLine($"| {rows:N0} | {F(bits / rows)} | {F(filter.MemoryBytes * 8.0 / rows)} | {F(bits / capacity)} | {Pct(atRebuild)} | {Pct(atCapacity)} | {Pct(filter.EstimatedFalsePositiveRate)} |");
        }

        Console.WriteLine();
        Console.WriteLine("### A user who grows 100× past the first sizing (1 000 rows at rebuild, then 125 000 adds)");
        Console.WriteLine();
        Console.WriteLine("| r | growth | layers | bits/item | measured % | model % | target % |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        foreach (var (ratio, growth) in new[] { (0.5, 2.0), (0.8, 2.0), (0.9, 2.0), (0.5, 4.0) })
        {
            var options = new BloomFilterOptions { TighteningRatio = ratio, GrowthFactor = growth };
            var filter = UserFilter.Create(1_000, options);
            var items = (int)(100 * filter.Capacity);
            filter.AddMany(1, Ids(0, items));
            Console.WriteLine($"| {F(ratio)} | ×{F(growth)} | {filter.LayerCount} | {F(filter.BitBytes * 8.0 / items)} | {Pct(MeasureUser(filter, items))} | {Pct(filter.EstimatedFalsePositiveRate)} | {Pct(options.TargetFalsePositiveRate)} |");
        }

        Console.WriteLine();
        Console.WriteLine($"(ran {clock.Elapsed.TotalSeconds:F0} s)");
    }

    /// <summary>The measured rate over 2 M ids that were never added (ids from <paramref name="firstAbsent"/> up).</summary>
    private static double MeasureUser(UserFilter filter, int firstAbsent)
    {
        const int queries = 2_000_000;
        var bitmap = new byte[queries / 8];
        var absent = filter.CheckMany(1, Ids(firstAbsent, queries), bitmap);
        return (queries - absent) / (double)queries;
    }

    private static ulong[] Ids(int from, int count) => Enumerable.Range(from, count).Select(i => (ulong)i).ToArray();

    private static IEnumerable<ContentKey> Keys(int from, int count) => Enumerable.Range(from, count).Select(i => new ContentKey(1, (ulong)i));

    private static double Measure(Func<ulong, bool> mightContain, ulong[] strangers)
    {
        var hits = 0;
        foreach (var h in strangers)
        {
            hits += mightContain(h) ? 1 : 0;
        }

        return hits / (double)strangers.Length;
    }

    /// <summary>The exact standard-Bloom rate (1 − e^(−k/b))^k at the best integer k.</summary>
    private static double StandardBloomOptimum(double bitsPerItem) =>
        Enumerable.Range(1, 40).Min(k => Math.Pow(1 - Math.Exp(-k / bitsPerItem), k));

    private static ulong[] Hashes(int count, int seed)
    {
        var hashes = new ulong[count];
        new Random(seed).NextBytes(MemoryMarshal.AsBytes(hashes.AsSpan()));
        return hashes;
    }

    private static string Pct(double rate) => (rate * 100).ToString("0.000", CultureInfo.InvariantCulture);

    private static string F(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);
}
