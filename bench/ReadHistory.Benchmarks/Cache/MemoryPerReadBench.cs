using System.Diagnostics;
using System.Globalization;
using ReadHistory.Benchmarks.Shared;
using ReadHistory.Core.Caching;
using ReadHistory.Core.Filters;
using ReadHistory.LoadGen.Model;

namespace ReadHistory.Benchmarks.Cache;

/// <summary>
/// <c>memory-per-read [--users N] [--writes N] [--checks N] [--seconds N] [--population default|small|large|all] [--fuse-base on|off]</c>: the
/// load generator's population built in-process into one pool's <see cref="FilterTable"/> (every user cached, as a
/// rebuild makes it), then the pool's own accounting (<see cref="FilterTable.Bytes"/>, what <c>CacheNode.Stats</c>
/// reports) per stored read, the measured false-positive rate (Zipf-weighted checks of never-written ids, the load
/// generator's ground truth), both again after the feed scenario's writes (Zipf-weighted new reads), the in-process
/// hit path, and the rebuild time of a 300,000-row user. No database, no gRPC: the filters alone.
/// </summary>
internal static class MemoryPerReadBench
{
    private const int Candidates = 400;
    private const double ReadShare = 0.3;
    private const ushort ContentType = 1;

    public static int Run(string[] args)
    {
        var inv = CultureInfo.InvariantCulture;
        var users = BenchHost.IntOption(args, "--users", 20_000);
        var writes = BenchHost.IntOption(args, "--writes", 30_000);
        var checks = BenchHost.IntOption(args, "--checks", 20_000);
        var seconds = BenchHost.IntOption(args, "--seconds", 3);
        var which = StringOption(args, "--population", "all");
        var options = StringOption(args, "--fuse-base", "on") == "off" ? new BloomFilterOptions { FuseBase = false } : BloomFilterOptions.Default;
        Console.WriteLine($"memory-per-read: fuse base {(options.FuseBase ? "on" : "off")}, {users:N0} users (large: {LargeUsers(users):N0}), {writes:N0} writes, {checks:N0} checks × {Candidates} ids, {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        Console.WriteLine("| population | users | rows | B/read | bits B/read | overhead B/user | FPR % | after writes: B/read | FPR % | grown users | hit M ids/s | FN |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        var populations = new (string Name, WorkloadOptions Options)[]
        {
            ("default", new WorkloadOptions { Users = users }),
            ("small (10–100)", new WorkloadOptions { Users = users, HistoryMin = 10, HistoryMax = 100, HeavyShare = 0 }),
            ("large (10,000–300,000)", new WorkloadOptions { Users = LargeUsers(users), HistoryMin = 10_000, HistoryMax = 300_000, HeavyShare = 0 }),
        };
        foreach (var (name, population) in populations)
        {
            if (which == "all" || name.StartsWith(which, StringComparison.Ordinal))
            {
                Measure(name, population, options, writes, checks, seconds, inv);
            }
        }

        var rebuild = RebuildMilliseconds(300_000, options);
        Console.WriteLine(string.Create(inv, $"rebuild of a 300,000-row user (UserFilter.Rebuild from a span): median {rebuild[rebuild.Length / 2]:F1} ms of {rebuild.Length} ({string.Join(", ", rebuild.Select(r => r.ToString("F1", inv)))})"));
        return 0;
    }

    /// <summary>The large-only population keeps the default's row count within a few times (its users hold ~400× more rows each).</summary>
    private static int LargeUsers(int users) => Math.Max(10, users / 40);

    private static void Measure(string name, WorkloadOptions options, BloomFilterOptions filterOptions, int writes, int checks, int seconds, CultureInfo inv)
    {
        var model = new WorkloadModel(options);
        var table = new FilterTable(1L << 40, filterOptions);
        var sizes = new int[options.Users];
        long rows = 0;
        long bitBytes = 0;
        var buffer = new ContentKey[options.HistoryMax];
        for (var rank = 0; rank < options.Users; rank++)
        {
            var user = model.UserId(rank);
            var size = model.HistorySize(rank);
            sizes[rank] = size;
            for (var i = 0; i < size; i++)
            {
                buffer[i] = new ContentKey(ContentType, model.ReadId(user, i));
            }

            var filter = UserFilter.Rebuild(buffer.AsSpan(0, size), filterOptions);
            bitBytes += filter.BitBytes;
            table.Install(user, filter);
            rows += size;
        }

        var bytes = table.Bytes;
        var fpr = FalsePositiveRate(model, table, checks, stream: 1);
        var hit = HitIdsPerSecond(model, sizes, table, seconds);

        // The feed scenario's writes: new reads of Zipf-chosen users, each id above the user's preloaded ones.
        var written = new int[options.Users];
        var random = new SplitMix(options.Seed, 7, 0);
        for (var w = 0; w < writes; w++)
        {
            var rank = model.Popularity.Sample(random.NextUnit());
            var user = model.UserId(rank);
            var id = model.ReadId(user, sizes[rank] + written[rank]++);
            if (!table.TryGet(user, out var entry))
            {
                throw new InvalidOperationException($"user {user} is not held");
            }

            table.Add(entry, ContentType, id);
        }

        var grown = 0;
        for (var rank = 0; rank < options.Users; rank++)
        {
            if (table.TryGet(model.UserId(rank), out var entry) && entry.Filter is { LayerCount: > 1 })
            {
                grown++;
            }
        }

        var afterBytes = table.Bytes;
        var afterFpr = FalsePositiveRate(model, table, checks, stream: 2);
        var falseNegatives = FalseNegatives(model, table, sizes, written);
        Console.WriteLine(string.Create(inv,
            $"| {name} | {options.Users:N0} | {rows:N0} | **{bytes / (double)rows:F3}** | {bitBytes / (double)rows:F3} | {(bytes - bitBytes) / (double)options.Users:F1} | **{fpr * 100:F3}** | **{afterBytes / (double)(rows + writes):F3}** | **{afterFpr * 100:F3}** | {grown:N0} | {hit / 1e6:F1} | {falseNegatives} |"));
    }

    /// <summary>Zipf-weighted checks of never-written (even) ids: the share a filter answers "read".</summary>
    private static double FalsePositiveRate(WorkloadModel model, FilterTable table, int checks, ulong stream)
    {
        var random = new SplitMix(model.Options.Seed, 100 + stream, 0);
        var ids = new ulong[Candidates];
        var bitmap = new byte[Candidates / 8];
        long positives = 0;
        for (var c = 0; c < checks; c++)
        {
            var rank = model.Popularity.Sample(random.NextUnit());
            for (var i = 0; i < Candidates; i++)
            {
                ids[i] = WorkloadModel.UnreadId(random.Next());
            }

            if (!table.TryGet(model.UserId(rank), out var entry))
            {
                throw new InvalidOperationException("user not held");
            }

            positives += Candidates - entry.CheckMany(ContentType, ids, bitmap);
        }

        return positives / (double)(checks * (long)Candidates);
    }

    /// <summary>Every preloaded and written id of a sample of users (all of each), checked: how many a filter calls unread.</summary>
    private static long FalseNegatives(WorkloadModel model, FilterTable table, int[] sizes, int[] written)
    {
        long missing = 0;
        var ids = new ulong[Candidates];
        var bitmap = new byte[Candidates / 8];
        var step = Math.Max(1, sizes.Length / 500);
        for (var rank = 0; rank < sizes.Length; rank++)
        {
            if (rank % step != 0 && written[rank] == 0)
            {
                continue;
            }

            var user = model.UserId(rank);
            table.TryGet(user, out var entry);
            var total = sizes[rank] + written[rank];
            for (var start = 0; start < total; start += Candidates)
            {
                var count = Math.Min(Candidates, total - start);
                for (var i = 0; i < count; i++)
                {
                    ids[i] = model.ReadId(user, start + i);
                }

                missing += entry.CheckMany(ContentType, ids.AsSpan(0, count), bitmap);
            }
        }

        return missing;
    }

    /// <summary>One thread: Zipf-chosen users, 400 candidates (30 % read), lookup and batch check, for <paramref name="seconds"/>.</summary>
    private static double HitIdsPerSecond(WorkloadModel model, int[] sizes, FilterTable table, int seconds)
    {
        const int Batches = 1024;
        var random = new SplitMix(model.Options.Seed, 200, 0);
        var users = new ulong[Batches];
        var idSets = new ulong[Batches][];
        for (var b = 0; b < Batches; b++)
        {
            var rank = model.Popularity.Sample(random.NextUnit());
            users[b] = model.UserId(rank);
            idSets[b] = new ulong[Candidates];
            for (var i = 0; i < Candidates; i++)
            {
                idSets[b][i] = random.NextUnit() < ReadShare
                    ? model.ReadId(users[b], random.NextBelow(sizes[rank]))
                    : WorkloadModel.UnreadId(random.Next());
            }
        }

        var bitmap = new byte[Candidates / 8];
        var clock = Stopwatch.StartNew();
        long done = 0;
        var sink = 0;
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            for (var b = 0; b < Batches; b++)
            {
                table.TryGet(users[b], out var entry);
                sink += entry.CheckMany(ContentType, idSets[b], bitmap);
            }

            done += Batches;
        }

        GC.KeepAlive(sink);
        return done * Candidates / clock.Elapsed.TotalSeconds;
    }

    private static double[] RebuildMilliseconds(int rows, BloomFilterOptions options)
    {
        var keys = new ContentKey[rows];
        for (var i = 0; i < rows; i++)
        {
            keys[i] = new ContentKey(ContentType, WorkloadModel.UnreadId((ulong)i * 0x9E3779B97F4A7C15UL) | 1);
        }

        var times = new double[7];
        for (var r = 0; r < times.Length; r++)
        {
            var clock = Stopwatch.StartNew();
            var filter = UserFilter.Rebuild(keys, options);
            times[r] = clock.Elapsed.TotalMilliseconds;
            GC.KeepAlive(filter);
        }

        Array.Sort(times);
        return times;
    }

    private static string StringOption(string[] args, string name, string fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }
}
