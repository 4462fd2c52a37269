using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using ReadHistory.Benchmarks.Shared;
using ReadHistory.Server.Cache;
using ReadHistory.Server.Cdc;
using ReadHistory.TestSupport;
using StackExchange.Redis;

namespace ReadHistory.Benchmarks.Cache;

/// <summary>
/// <c>t2 [--rounds N] [--engine rocksdb|innodb]</c>: a private MariaDB and Redis, one cache-role host in this process
/// with the second tier on (Cache:T2, shipped settings otherwise), and a 300,000-row user. Interleaved rounds of: (a) the
/// user dropped from T1 and its snapshot deleted, then a Check of 400 ids — answered from the database (one T2 GET
/// that finds nothing, then the point query), and the time until the database rebuild has the user hot in T1; (b) the
/// user dropped from T1 with its snapshot kept, then the same Check — answered SNAPSHOT, the user hot in T1 when it
/// answers. Prints P50/P90/max of both, the snapshot's bytes and the rebuild knobs. With <c>--churn</c>: see
/// <see cref="SnapshotTierChurn"/>; with <c>--new-replica</c>: <see cref="SnapshotTierNewReplica"/>.
/// </summary>
internal static class SnapshotTierBench
{
    private const int Ids = 400;
    private const ulong BigUser = 9_000_000;
    private const int BigRows = 300_000;

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Contains("--churn"))
        {
            return await SnapshotTierChurn.RunAsync(args);
        }

        if (args.Contains("--new-replica"))
        {
            return await SnapshotTierNewReplica.RunAsync(args);
        }

        var rounds = BenchHost.IntOption(args, "--rounds", 30);
        var engine = args.Contains("innodb") ? "innodb" : "rocksdb";
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine($"t2: {rounds} interleaved rounds, a {BigRows:N0}-row user, 400-id Checks; {Environment.ProcessorCount} cores, engine {engine}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, load average {File.ReadAllText("/proc/loadavg").Trim()}");
        await using var mariaDb = await MariaDbServer.StartAsync(new MariaDbServerOptions { RocksDb = engine == "rocksdb", Binlog = false });
        await using var redisServer = await RedisServer.StartAsync();
        var settings = BenchHost.Settings("cache", mariaDb.ConnectionString(), "tb", 512L << 20);
        settings["ReadHistory:Database:Engine"] = engine == "rocksdb" ? "RocksDb" : "InnoDb";
        settings["ReadHistory:Redis:Configuration"] = redisServer.Endpoint;
        settings["ReadHistory:Redis:KeyPrefix"] = "t2bench";
        settings["ReadHistory:Cache:Slot"] = "0";
        settings["ReadHistory:Cache:T2:Enabled"] = "true";
        settings["ReadHistory:Cache:WarmStartTimeout"] = "00:00:00";
        await BenchHost.MigrateAsync(settings);
        await mariaDb.SqlAsync(
            (engine == "rocksdb" ? "SET SESSION rocksdb_commit_in_the_middle = 1; " : string.Empty) +
            $"INSERT INTO `tb_0`.`reads_0` SELECT {BigUser}, 0, r.seq * 2, 1700000000 FROM seq_1_to_{BigRows} r;",
            "tb_0");

        // No CDC here: the slot's stream gets an epoch by hand (T2 stamps need one), and stays empty.
        using var redis = await ConnectionMultiplexer.ConnectAsync(redisServer.Endpoint);
        await redis.GetDatabase().HashSetAsync(new CdcKeys("t2bench").Slot("default", 0).State, SlotKeys.EpochField, CdcKeys.FormatEpoch(1));
        await using var host = await BenchHost.StartReadyAsync(settings);
        var cache = host.App.Services.GetRequiredService<CacheNodeHost>().Current ?? throw new InvalidOperationException("the cache node has no cache");
        var tier = cache.SnapshotTier ?? throw new InvalidOperationException("T2 is off");
        var snapshotKey = "t2bench:t2:{default:" + BigUser.ToString(inv) + "}:0";
        Console.WriteLine(string.Create(inv, $"rebuilds: concurrency {cache.Options.RebuildConcurrency}, {cache.Options.RebuildRowsPerSecond} rows/s (0 = unlimited); T2 LoadTimeout {tier.LoadTimeout.TotalMilliseconds} ms, WriteBackMinRows {tier.WriteBackMinRows}"));

        var ids = Enumerable.Range(1, Ids).Select(static i => (ulong)i * 3).ToArray(); // half read (even ids)
        var bitmap = new byte[Ids / 8];
        var fromDatabase = new List<double>();
        var hotFromDatabase = new List<double>();
        var fromSnapshot = new List<double>();
        long snapshotBytes = 0;
        for (var round = 0; round <= rounds; round++)
        {
            // (a) Database: neither tier holds the user.
            await NoRebuildAsync(cache);
            cache.ApplyChange(BigUser, 0, 0, ChangeKind.DeleteUser);
            await redis.GetDatabase().KeyDeleteAsync(snapshotKey);
            var written = tier.Metrics.Written;
            var started = Stopwatch.GetTimestamp();
            var answer = await cache.CheckAsync(BigUser, 0, ids, bitmap, passthrough: false, CancellationToken.None);
            var answered = Stopwatch.GetElapsedTime(started);
            Expect(answer, CheckSource.Database);
            while (!cache.Filters.TryGet(BigUser, out _))
            {
                await Task.Delay(1);
            }

            var hot = Stopwatch.GetElapsedTime(started);

            // The rebuild wrote the heavy user back (WriteBackMinRows): wait for it before the snapshot round.
            while (tier.Metrics.Written == written || !await redis.GetDatabase().KeyExistsAsync(snapshotKey))
            {
                await Task.Delay(1);
            }

            // (b) T2: the user left T1, its snapshot is in Redis.
            await NoRebuildAsync(cache);
            cache.ApplyChange(BigUser, 0, 0, ChangeKind.DeleteUser);
            started = Stopwatch.GetTimestamp();
            answer = await cache.CheckAsync(BigUser, 0, ids, bitmap, passthrough: false, CancellationToken.None);
            var fromTier = Stopwatch.GetElapsedTime(started);
            Expect(answer, CheckSource.Snapshot);
            snapshotBytes = (long)await redis.GetDatabase().StringLengthAsync(snapshotKey);
            if (round > 0)
            {
                // Round 0 warms up both paths (JIT, connections, the database's caches).
                fromDatabase.Add(answered.TotalMilliseconds);
                hotFromDatabase.Add(hot.TotalMilliseconds);
                fromSnapshot.Add(fromTier.TotalMilliseconds);
            }
        }

        Console.WriteLine();
        Console.WriteLine(string.Create(inv, $"| T1 miss of a {BigRows:N0}-row user (400-id Check) | P50 ms | P90 ms | max ms |"));
        Console.WriteLine("|---|---:|---:|---:|");
        Print("answered from the database (T2 GET finds nothing, then the point query)", fromDatabase);
        Print("answered from T2 (GET, catch-up, install: hot in T1 when it answers)", fromSnapshot);
        Print("hot in T1 after the database rebuild (from the Check)", hotFromDatabase);
        Console.WriteLine(string.Create(inv, $"snapshot: {snapshotBytes:N0} bytes in Redis; T2 hits {tier.Metrics.Hits}, misses {tier.Metrics.Misses}, errors {tier.Metrics.LoadErrors}; load average now {File.ReadAllText("/proc/loadavg").Trim()}"));
        return 0;
    }

    // The database is exact; a filter may answer a few unread ids read (false positives), never the reverse.
    private static void Expect(ReadHistory.Server.Cache.CheckResult answer, CheckSource source)
    {
        if (answer.Source != source || answer.UnreadCount > Ids / 2 || (source == CheckSource.Database && answer.UnreadCount != Ids / 2))
        {
            throw new InvalidOperationException($"expected {Ids / 2} unread from {source}, got {answer}");
        }
    }

    private static async Task NoRebuildAsync(ReadThroughCache cache)
    {
        while (cache.RebuildsInFlight > 0)
        {
            await Task.Delay(1);
        }
    }

    private static void Print(string what, List<double> samples)
    {
        samples.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {what} | {At(samples, 0.5):F2} | {At(samples, 0.9):F2} | {samples[^1]:F2} |"));
    }

    private static double At(List<double> sorted, double q) => sorted[(int)Math.Min(sorted.Count - 1, q * sorted.Count)];
}
