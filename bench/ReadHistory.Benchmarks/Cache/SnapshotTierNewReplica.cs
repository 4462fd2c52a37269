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
/// <c>t2 --new-replica [--runs N] [--users N] [--rows N] [--hot-seconds N] [--seconds N]</c>: a new replica joining a
/// slot whose peer is gone (no warm start possible), T2 on vs off, alternating, N runs each. Per run, on an empty
/// Redis: node A (one cache-role host in this process, private MariaDB with MyRocks; T1 holds the whole working set)
/// serves 8 closed-loop callers checking 20 ids of Zipf-drawn users (s = 1) for --hot-seconds; with T2 its periodic
/// refresh (Cache:T2:RefreshInterval 2 s here) then finishes one whole pass; A is then disposed with no shutdown
/// write-back (Cache:T2:ShutdownWriteBackTimeout 0: a kill, as far as T2 is concerned) and node B starts for the same
/// slot (WarmStartTimeout 0: nobody to copy from) and gets the same traffic. A hit is a check answered from the
/// filter, without the database: source MEMORY or SNAPSHOT (DATABASE is the miss's point query). Reported: time from
/// B's first check to the first 100 ms window of completed checks with ≥ 90 % hits, hits over B's first second,
/// database rows read and point queries until then, false negatives (must be 0).
/// </summary>
internal static class SnapshotTierNewReplica
{
    private const int Callers = 8;
    private const int ReadIds = 10;
    private const double Target = 0.9;
    private static readonly long Window = Stopwatch.Frequency / 10;

    public static async Task<int> RunAsync(string[] args)
    {
        var runs = BenchHost.IntOption(args, "--runs", 3);
        var users = BenchHost.IntOption(args, "--users", 2000);
        var rows = BenchHost.IntOption(args, "--rows", 2000);
        var hotSeconds = BenchHost.IntOption(args, "--hot-seconds", 15);
        var seconds = BenchHost.IntOption(args, "--seconds", 20);
        var inv = CultureInfo.InvariantCulture;
        var filterBytes = UserFilter.Create(rows, new BloomFilterOptions { TargetFalsePositiveRate = 0.01 }).MemoryBytes + 64;
        var budget = Math.Max(64L << 20, 2L * users * filterBytes);
        Console.WriteLine($"t2 --new-replica: {users} users x {rows} rows, T1 budget {budget:N0} bytes (the whole working set), {Callers} callers, Zipf s=1, A hot for {hotSeconds} s, B measured up to {seconds} s, {runs} runs each of T2 on/off alternating; {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, load average {File.ReadAllText("/proc/loadavg").Trim()}");
        await using var mariaDb = await MariaDbServer.StartAsync(new MariaDbServerOptions { RocksDb = true, Binlog = false });
        await using var redisServer = await RedisServer.StartAsync();
        using var redis = await ConnectionMultiplexer.ConnectAsync(redisServer.Endpoint + ",allowAdmin=true");
        var baseSettings = BenchHost.Settings("cache", mariaDb.ConnectionString(), "tn", budget);
        baseSettings["ReadHistory:Database:Engine"] = "RocksDb";
        baseSettings["ReadHistory:Redis:Configuration"] = redisServer.Endpoint;
        baseSettings["ReadHistory:Redis:KeyPrefix"] = "t2new";
        baseSettings["ReadHistory:Cache:Slot"] = "0";
        baseSettings["ReadHistory:Cache:WarmStartTimeout"] = "00:00:00";
        baseSettings["ReadHistory:Cache:T2:RefreshInterval"] = "00:00:02";
        baseSettings["ReadHistory:Cache:T2:ShutdownWriteBackTimeout"] = "00:00:00";
        await BenchHost.MigrateAsync(baseSettings);
        await SnapshotTierChurn.LoadUsersAsync(mariaDb, "tn", users, rows);
        var cdf = SnapshotTierChurn.ZipfCdf(users);

        Console.WriteLine();
        Console.WriteLine("| run | T2 | A: users held | T2 keys after A | B: time to 90 % hits (s) | B: hits in its first second | B: database rows read until 90 % | B: point queries until 90 % | B: answered SNAPSHOT until 90 % | false negatives | load average |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        var times = new Dictionary<bool, List<double>> { [true] = [], [false] = [] };
        for (var run = 0; run < 2 * runs; run++)
        {
            var on = run % 2 == 0;
            await redis.GetServers()[0].FlushAllDatabasesAsync();
            await redis.GetDatabase().HashSetAsync(new CdcKeys("t2new").Slot("default", 0).State, SlotKeys.EpochField, CdcKeys.FormatEpoch(1));
            var settings = new Dictionary<string, string?>(baseSettings) { ["ReadHistory:Cache:T2:Enabled"] = on ? "true" : "false" };

            int held;
            await using (var a = await BenchHost.StartReadyAsync(settings))
            {
                var cacheA = a.App.Services.GetRequiredService<CacheNodeHost>().Current ?? throw new InvalidOperationException("node A has no cache");
                await DriveAsync(cacheA, cdf, rows, TimeSpan.FromSeconds(hotSeconds), seed: 1, untilHits: false);
                while (cacheA.RebuildsInFlight > 0)
                {
                    await Task.Delay(10);
                }

                held = cacheA.Filters.Users;
                if (cacheA.SnapshotTier is { } tier)
                {
                    // A pass that started after the traffic, done: the state a peer leaves behind when it dies between passes.
                    var passes = tier.RefreshPasses;
                    while (tier.RefreshPasses < passes + 2)
                    {
                        await Task.Delay(50);
                    }
                }
            }

            var keys = await redis.GetServers()[0].DatabaseSizeAsync() - 1; // minus the slot's state hash
            await using var b = await BenchHost.StartReadyAsync(settings);
            var cacheB = b.App.Services.GetRequiredService<CacheNodeHost>().Current ?? throw new InvalidOperationException("node B has no cache");
            var result = await DriveAsync(cacheB, cdf, rows, TimeSpan.FromSeconds(seconds), seed: 2 + run, untilHits: true);
            if (result.TimeToTarget is { } reached)
            {
                times[on].Add(reached);
            }

            Console.WriteLine(string.Create(inv, $"| {run + 1} | {(on ? "on" : "off")} | {held:N0} | {keys:N0} | {(result.TimeToTarget is { } t ? t.ToString("F2", inv) : $"> {seconds}")} | {100.0 * result.FirstSecondHits:F1} % | {result.RowsUntil:N0} | {result.PointQueriesUntil:N0} | {result.SnapshotsUntil:N0} | {result.FalseNegatives} | {File.ReadAllText("/proc/loadavg").Trim()} |"));
        }

        Console.WriteLine();
        foreach (var on in new[] { true, false })
        {
            var sorted = times[on].Order().ToList();
            Console.WriteLine(string.Create(inv, $"T2 {(on ? "on" : "off")}: time to 90 % hits median {(sorted.Count > 0 ? sorted[sorted.Count / 2].ToString("F2", inv) : "-")} s over {sorted.Count} runs that reached it ({string.Join(", ", sorted.Select(s => s.ToString("F2", inv)))})"));
        }

        Console.WriteLine($"load average at the end {File.ReadAllText("/proc/loadavg").Trim()}");
        return 0;
    }

    /// <summary>
    /// 8 closed-loop callers on Zipf users for <paramref name="duration"/>; with <paramref name="untilHits"/>, stops
    /// one second after the first 100 ms window of ≥ 90 % hits and reports the time to it (from the first check).
    /// </summary>
    private static async Task<Outcome> DriveAsync(ReadThroughCache cache, double[] cdf, int rows, TimeSpan duration, int seed, bool untilHits)
    {
        var started = Stopwatch.GetTimestamp();
        var end = started + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var windows = (int)((end - started) / Window) + 1;
        var hits = new long[windows];
        var calls = new long[windows];
        long falseNegatives = 0;
        var reachedAt = -1;
        var rowsAt = 0L;
        var pointAt = 0L;
        var snapshotsAt = 0L;
        var closedWindow = 0;
        var rowsBefore = cache.Metrics.RebuildRowCount;
        var pointBefore = cache.Metrics.PointQueries;
        var tierHitsBefore = cache.SnapshotTier?.Metrics.Hits ?? 0;
        using var stop = new CancellationTokenSource();

        void CloseWindows(long now)
        {
            // One caller at a time closes the windows that ended; the first at ≥ 90 % hits is the answer.
            var current = (int)((now - started) / Window);
            while (closedWindow < current && closedWindow < windows)
            {
                var w = closedWindow++;
                var n = Interlocked.Read(ref calls[w]);
                if (reachedAt < 0 && n > 0 && Interlocked.Read(ref hits[w]) >= Target * n)
                {
                    reachedAt = w + 1;
                    rowsAt = cache.Metrics.RebuildRowCount - rowsBefore;
                    pointAt = cache.Metrics.PointQueries - pointBefore;
                    snapshotsAt = (cache.SnapshotTier?.Metrics.Hits ?? 0) - tierHitsBefore;
                    if (untilHits)
                    {
                        stop.CancelAfter(TimeSpan.FromSeconds(1));
                    }
                }
            }
        }

        var gate = new object();
        await Task.WhenAll(Enumerable.Range(0, Callers).Select(c => Task.Run(async () =>
        {
            var random = new Random((seed * 100) + c);
            var ids = new ulong[2 * ReadIds];
            var bitmap = new byte[(ids.Length + 7) / 8];
            while (!stop.IsCancellationRequested)
            {
                var user = SnapshotTierChurn.DrawUser(cdf, random);
                for (var i = 0; i < ReadIds; i++)
                {
                    ids[i] = (ulong)random.Next(1, rows + 1) * 2;               // read
                    ids[ReadIds + i] = ((ulong)random.Next(1, rows + 1) * 2) + 1; // never read
                }

                var answer = await cache.CheckAsync(user, 0, ids, bitmap, passthrough: false, CancellationToken.None);
                var now = Stopwatch.GetTimestamp();
                if (now >= end)
                {
                    break;
                }

                var w = (int)((now - started) / Window);
                Interlocked.Increment(ref calls[w]);
                if (answer.Source is CheckSource.Memory or CheckSource.MemoryStale or CheckSource.Snapshot)
                {
                    Interlocked.Increment(ref hits[w]);
                }

                for (var i = 0; i < ReadIds; i++)
                {
                    if ((bitmap[i / 8] & (1 << (i % 8))) == 0)
                    {
                        Interlocked.Increment(ref falseNegatives);
                    }
                }

                lock (gate)
                {
                    CloseWindows(now);
                }
            }
        })));

        long firstHits = 0, firstCalls = 0;
        for (var w = 0; w < Math.Min(10, windows); w++)
        {
            firstHits += hits[w];
            firstCalls += calls[w];
        }

        return new Outcome(
            reachedAt < 0 ? null : reachedAt * (double)Window / Stopwatch.Frequency,
            firstCalls == 0 ? 0 : (double)firstHits / firstCalls,
            rowsAt,
            pointAt,
            snapshotsAt,
            falseNegatives);
    }

    private sealed record Outcome(double? TimeToTarget, double FirstSecondHits, long RowsUntil, long PointQueriesUntil, long SnapshotsUntil, long FalseNegatives);
}
