using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using ReadHistory.Benchmarks.Shared;
using ReadHistory.Core.Filters;
using ReadHistory.Server.Cache;
using ReadHistory.Server.Cdc;
using ReadHistory.TestSupport;
using StackExchange.Redis;

namespace ReadHistory.Benchmarks.Cache;

/// <summary>
/// <c>t2 --churn [--seconds N] [--users N] [--rows N]</c>: one cache-role host (private MariaDB with MyRocks, Redis)
/// whose T1 budget holds about 20 % of the working set (users of equal rows), 8 callers checking 20 ids (10 read, 10
/// not) of Zipf-drawn users (s = 1) straight into the cache, T2 on then off then on then off, each after a warm-up of
/// a third of the measured time: database rows read by rebuilds per second, point queries per second, check P50/P99,
/// T2 hits, T2 keys and Redis memory per cached user, and false negatives (must be 0). Each run first touches every
/// user once (a rebuild from the database each), so it measures re-touches in steady state, not a cold start.
/// </summary>
internal static class SnapshotTierChurn
{
    private const int Callers = 8;
    private const int ReadIds = 10;

    public static async Task<int> RunAsync(string[] args)
    {
        var seconds = BenchHost.IntOption(args, "--seconds", 30);
        var users = BenchHost.IntOption(args, "--users", 2000);
        var rows = BenchHost.IntOption(args, "--rows", 2000);
        var inv = CultureInfo.InvariantCulture;
        var filterBytes = UserFilter.Create(rows, new BloomFilterOptions { TargetFalsePositiveRate = 0.01 }).MemoryBytes + 64;
        var budget = Math.Max(1L << 20, users * filterBytes / 5);
        Console.WriteLine($"t2 --churn: {users} users x {rows} rows, T1 budget {budget:N0} bytes (~{100.0 * budget / (users * filterBytes):F0} % of the working set), {Callers} callers, Zipf s=1, {seconds} s measured per run; {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, load average {File.ReadAllText("/proc/loadavg").Trim()}");
        await using var mariaDb = await MariaDbServer.StartAsync(new MariaDbServerOptions { RocksDb = true, Binlog = false });
        await using var redisServer = await RedisServer.StartAsync();
        using var redis = await ConnectionMultiplexer.ConnectAsync(redisServer.Endpoint + ",allowAdmin=true");
        var baseSettings = BenchHost.Settings("cache", mariaDb.ConnectionString(), "tc", budget);
        baseSettings["ReadHistory:Database:Engine"] = "RocksDb";
        baseSettings["ReadHistory:Redis:Configuration"] = redisServer.Endpoint;
        baseSettings["ReadHistory:Redis:KeyPrefix"] = "t2churn";
        baseSettings["ReadHistory:Cache:Slot"] = "0";
        baseSettings["ReadHistory:Cache:MaxFilterBytes"] = (1L << 20).ToString(inv);
        baseSettings["ReadHistory:Cache:WarmStartTimeout"] = "00:00:00";
        await BenchHost.MigrateAsync(baseSettings);
        await LoadUsersAsync(mariaDb, "tc", users, rows);

        Console.WriteLine();
        Console.WriteLine("| T2 | checks/s | rebuild rows read/s | point queries/s | check P50 ms | check P99 ms | answered SNAPSHOT | T2 keys | Redis used_memory / T2 key | false negatives |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var on in new[] { true, false, true, false })
        {
            await redis.GetServers()[0].FlushAllDatabasesAsync();
            await redis.GetDatabase().HashSetAsync(new CdcKeys("t2churn").Slot("default", 0).State, SlotKeys.EpochField, CdcKeys.FormatEpoch(1));
            var settings = new Dictionary<string, string?>(baseSettings) { ["ReadHistory:Cache:T2:Enabled"] = on ? "true" : "false" };
            await using var host = await BenchHost.StartReadyAsync(settings);
            var cache = host.App.Services.GetRequiredService<CacheNodeHost>().Current ?? throw new InvalidOperationException("the cache node has no cache");
            // Every user once first (its rebuild from the database; with T2 its write-back when evicted), so the
            // measured run sees re-touches in steady state rather than the first touches of a cold start.
            var probe = new ulong[] { 2 };
            var probeBitmap = new byte[1];
            for (var user = 1UL; user <= (ulong)users; user++)
            {
                await cache.CheckAsync(user, 0, probe, probeBitmap, passthrough: false, CancellationToken.None);
                while (cache.RebuildsInFlight > 4)
                {
                    await Task.Delay(1);
                }
            }

            while (cache.RebuildsInFlight > 0)
            {
                await Task.Delay(10);
            }

            await DriveAsync(cache, users, rows, TimeSpan.FromSeconds(seconds / 3.0), seed: 1);
            var rowsBefore = cache.Metrics.RebuildRowCount;
            var pointBefore = cache.Metrics.PointQueries;
            var run = await DriveAsync(cache, users, rows, TimeSpan.FromSeconds(seconds), seed: 2);
            var rowsPerSecond = (cache.Metrics.RebuildRowCount - rowsBefore) / run.Seconds;
            var pointPerSecond = (cache.Metrics.PointQueries - pointBefore) / run.Seconds;
            var keys = await redis.GetServers()[0].DatabaseSizeAsync();
            var info = (await redis.GetServers()[0].InfoAsync("memory")).SelectMany(static g => g).First(static p => p.Key == "used_memory").Value;
            var perKey = keys > 1 ? double.Parse(info, inv) / (keys - 1) : double.NaN; // minus the slot's state hash
            Console.WriteLine(string.Create(inv, $"| {(on ? "on" : "off")} | {run.Checks / run.Seconds:F0} | {rowsPerSecond:F0} | {pointPerSecond:F1} | {run.P50:F3} | {run.P99:F3} | {run.Snapshots} | {keys - 1} | {perKey:F0} | {run.FalseNegatives} |"));
        }

        Console.WriteLine($"load average at the end {File.ReadAllText("/proc/loadavg").Trim()}");
        return 0;
    }

    /// <summary>Loads users 1 .. <paramref name="users"/> of <paramref name="rows"/> rows each (type 0, even ids 2 .. 2 × rows) into the first shard table.</summary>
    internal static async Task LoadUsersAsync(MariaDbServer mariaDb, string prefix, int users, int rows)
    {
        var load = Stopwatch.StartNew();
        // In slices of 200 users: one statement must end within the client's one-minute bound on a loaded machine.
        for (var from = 0; from < users; from += 200)
        {
            var to = Math.Min(users, from + 200) - 1;
            await mariaDb.SqlAsync($"SET SESSION rocksdb_commit_in_the_middle = 1; INSERT INTO `{prefix}_0`.`reads_0` SELECT 1 + u.seq, 0, r.seq * 2, 1700000000 FROM seq_{from}_to_{to} u, seq_1_to_{rows} r;", prefix + "_0");
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{(long)users * rows:N0} rows loaded in {load.Elapsed.TotalSeconds:F0} s"));
    }

    /// <summary>The cumulative Zipf (s = 1) weights of ranks 1 .. <paramref name="users"/> (rank r is user r).</summary>
    internal static double[] ZipfCdf(int users)
    {
        var cdf = new double[users];
        var sum = 0.0;
        for (var k = 0; k < users; k++)
        {
            sum += 1.0 / (k + 1);
            cdf[k] = sum;
        }

        return cdf;
    }

    /// <summary>A user drawn from <paramref name="cdf"/>.</summary>
    internal static ulong DrawUser(double[] cdf, Random random)
    {
        var rank = Array.BinarySearch(cdf, random.NextDouble() * cdf[^1]);
        return 1UL + (ulong)(rank < 0 ? ~rank : rank);
    }

    private static async Task<Run> DriveAsync(ReadThroughCache cache, int users, int rows, TimeSpan duration, int seed)
    {
        var cdf = ZipfCdf(users);

        var end = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var started = Stopwatch.GetTimestamp();
        var results = await Task.WhenAll(Enumerable.Range(0, Callers).Select(c => Task.Run(async () =>
        {
            var random = new Random((seed * 100) + c);
            var ids = new ulong[2 * ReadIds];
            var bitmap = new byte[(ids.Length + 7) / 8];
            var samples = new List<long>(1 << 16);
            long snapshots = 0;
            long falseNegatives = 0;
            while (Stopwatch.GetTimestamp() < end)
            {
                var user = DrawUser(cdf, random);
                for (var i = 0; i < ReadIds; i++)
                {
                    ids[i] = (ulong)random.Next(1, rows + 1) * 2;              // read
                    ids[ReadIds + i] = ((ulong)random.Next(1, rows + 1) * 2) + 1; // never read
                }

                var t = Stopwatch.GetTimestamp();
                var answer = await cache.CheckAsync(user, 0, ids, bitmap, passthrough: false, CancellationToken.None);
                samples.Add(Stopwatch.GetTimestamp() - t);
                snapshots += answer.Source == CheckSource.Snapshot ? 1 : 0;
                for (var i = 0; i < ReadIds; i++)
                {
                    falseNegatives += (bitmap[i / 8] & (1 << (i % 8))) == 0 ? 1 : 0;
                }
            }

            return (samples, snapshots, falseNegatives);
        })));
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var all = results.SelectMany(static r => r.samples).Order().ToList();
        double Ms(double q) => all[(int)Math.Min(all.Count - 1, q * all.Count)] * 1000.0 / Stopwatch.Frequency;
        return new Run(all.Count, seconds, Ms(0.5), Ms(0.99), results.Sum(static r => r.snapshots), results.Sum(static r => r.falseNegatives));
    }

    private sealed record Run(long Checks, double Seconds, double P50, double P99, long Snapshots, long FalseNegatives);
}
