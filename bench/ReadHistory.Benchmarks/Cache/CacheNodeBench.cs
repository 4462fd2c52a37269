using ReadHistory.Api;
using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using ReadHistory.Api.Internal.V1;
using ReadHistory.Api.V1;
using ReadHistory.Core.Filters;
using Grpc.Core;
using Grpc.Net.Client;
using ReadHistory.Server.Cache;
using ReadHistory.Benchmarks.Shared;
using ReadHistory.Server.Hosting;
using ReadHistory.TestSupport;
using SchemaMigrator = ReadHistory.Server.Storage.SchemaMigrator;
using CacheNodeClient = ReadHistory.Api.Internal.V1.CacheNode.CacheNodeClient;

namespace ReadHistory.Benchmarks.Cache;

/// <summary>
/// <c>cache-node [--seconds N] [--engine rocksdb|innodb] [--rebuild-concurrency N] [--rebuild-rows-per-second N]</c>: a private MariaDB and one cache-role host in this process on loopback, with a few
/// thousand users preloaded into its filters. Measures (a) the hit path in-process (ReadThroughCache.CheckAsync, one
/// thread), (b) the hit path through gRPC (CacheNode.Check, our client, concurrency 16 and 64), (c) the miss path
/// (point query of 400 ids for users not cached) alone and while three 300,000-row users rebuild, and (d) the memory
/// charged per cached user at the 1 % target for users of 100, 1,000 and 10,000 rows.
/// </summary>
internal static class CacheNodeBench
{
    private const int Ids = 400;
    private const int HotUsers = 2000;
    private const int HotRows = 200;
    private const ulong MissUserBase = 1_000_000;
    private const int MissUsers = 60_000;
    private const int MissRows = 20;
    private const ulong BigUserBase = 9_000_000;
    private const int BigRows = 300_000;

    public static async Task<int> RunAsync(string[] args)
    {
        var seconds = BenchHost.IntOption(args, "--seconds", 10);
        var engine = StringOption(args, "--engine", "rocksdb");
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine($"cache-node: {seconds} s per measurement; {Environment.ProcessorCount} cores, engine {engine}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        await using var server = await MariaDbServer.StartAsync(new MariaDbServerOptions { RocksDb = engine == "rocksdb", Binlog = false });
        var settings = BenchHost.Settings("cache", server.ConnectionString(), "cn", 512L << 20);
        settings["ReadHistory:Database:Engine"] = engine switch
        {
            "rocksdb" => "RocksDb",
            "innodb" => "InnoDb",
            _ => throw new ArgumentException($"--engine: expected rocksdb or innodb, got {engine}"),
        };
        // Rebuild priority knobs, to choose the defaults by measurement (absent = the node's defaults).
        foreach (var (option, key) in new[] { ("--rebuild-concurrency", "RebuildConcurrency"), ("--rebuild-rows-per-second", "RebuildRowsPerSecond") })
        {
            if (Array.IndexOf(args, option) >= 0)
            {
                settings[$"ReadHistory:Cache:{key}"] = StringOption(args, option, "");
            }
        }

        await BenchHost.MigrateAsync(settings);
        var load = Stopwatch.StartNew();
        await LoadRowsAsync(server, engine == "rocksdb");
        Console.WriteLine(string.Create(inv, $"rows loaded in {load.Elapsed.TotalSeconds:F1} s"));
        await using var host = await BenchHost.StartReadyAsync(settings);
        var cache = host.App.Services.GetRequiredService<CacheNodeHost>().Current ?? throw new InvalidOperationException("the cache node has no cache");
        Console.WriteLine(string.Create(inv, $"rebuilds: concurrency {cache.Options.RebuildConcurrency}, {cache.Options.RebuildRowsPerSecond} rows/s (0 = unlimited)"));

        var ids = new ulong[Ids];
        for (var i = 0; i < Ids; i++)
        {
            ids[i] = (ulong)(i + 1) * 7919;
        }

        await PreloadAsync(cache, ids);
        Console.WriteLine(string.Create(inv, $"preloaded {cache.Filters.Users} users, {cache.Filters.Bytes / 1024.0:F0} KiB"));

        var inProcess = HitInProcess(cache, ids, seconds);
        Console.WriteLine();
        Console.WriteLine("| hit path | calls/s | item checks/s | P50 ms | P99 ms |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        Console.WriteLine(string.Create(inv, $"| in-process CheckAsync, 1 thread | {inProcess:F0} | {inProcess * Ids / 1e6:F1} M | – | – |"));
        using var channel = ServiceChannels.Create(host.Internal!);
        var invoker = channel.CreateCallInvoker();
        foreach (var concurrency in new[] { 16, 64 })
        {
            var grpc = await HitThroughGrpcAsync(invoker, ids, concurrency, seconds);
            Console.WriteLine(string.Create(inv, $"| gRPC CacheNode.Check, concurrency {concurrency} | {grpc.CallsPerSecond:F0} | {grpc.CallsPerSecond * Ids / 1e6:F2} M | {grpc.P50:F3} | {grpc.P99:F3} |"));
        }

        var nextMissUser = MissUserBase;
        var aloneSamples = new List<long>(1 << 14);
        await MissesAsync(cache, ids, () => nextMissUser++, seconds, during: null, aloneSamples);
        aloneSamples.Sort();
        var alone = new Latency(aloneSamples.Count, Ms(aloneSamples, 0.5), Ms(aloneSamples, 0.99));
        // Rebuild rounds back to back: drop the three big users, miss on them (which starts their rebuilds), and time
        // misses of other users until all three are held again; repeat until the time is up.
        var underRebuilds = new List<long>(1 << 14);
        var rounds = 0;
        var rebuildSeconds = 0.0;
        var phaseEnd = Stopwatch.GetTimestamp() + (seconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < phaseEnd && nextMissUser < MissUserBase + MissUsers)
        {
            for (var b = 0UL; b < 3; b++)
            {
                cache.ApplyChange(BigUserBase + b, 0, 0, ChangeKind.DeleteUser);
            }

            var rebuilding = Stopwatch.StartNew();
            for (var b = 0UL; b < 3; b++)
            {
                await cache.CheckAsync(BigUserBase + b, 0, ids, new byte[Ids / 8], passthrough: false, CancellationToken.None);
            }

            await MissesAsync(cache, ids, () => nextMissUser++, seconds, during: () => !BigUsersHeld(cache), underRebuilds);
            await WaitAsync(() => BigUsersHeld(cache), TimeSpan.FromMinutes(3));
            rebuildSeconds += rebuilding.Elapsed.TotalSeconds;
            rounds++;
        }

        cache.Filters.TryGet(BigUserBase, out var big);
        underRebuilds.Sort();
        var loaded = new Latency(underRebuilds.Count, Ms(underRebuilds, 0.5), Ms(underRebuilds, 0.99));
        Console.WriteLine();
        Console.WriteLine("| miss path (CheckAsync of 400 ids, user not cached, sequential) | misses | P50 ms | P99 ms |");
        Console.WriteLine("|---|---:|---:|---:|");
        Console.WriteLine(string.Create(inv, $"| alone | {alone.Calls} | {alone.P50:F3} | {alone.P99:F3} |"));
        Console.WriteLine(string.Create(inv, $"| while three {BigRows:N0}-row users rebuild | {loaded.Calls} | {loaded.P50:F3} | {loaded.P99:F3} |"));
        Console.WriteLine(string.Create(inv, $"{rounds} rounds of three {BigRows:N0}-row rebuilds, {rebuildSeconds / Math.Max(1, rounds):F2} s per round; rebuild rows read {cache.Metrics.RebuildRowCount}, throttled {cache.Options.RebuildRowsPerSecond} rows/s; a big user's filter holds {big.Filter?.Count} keys in {big.Filter?.BitBytes} bit bytes; miss users used: {nextMissUser - MissUserBase}"));

        Console.WriteLine();
        Console.WriteLine("| rows per user (1 % target) | users | FilterTable.Bytes / users | bit bytes / user | overhead beyond bits / user | of which index share |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|");
        foreach (var (rows, users) in new[] { (100, 2000), (1000, 1000), (10_000, 200), (100, 100_000) })
        {
            await MemoryAsync(rows, users);
        }

        return 0;
    }

    private static bool BigUsersHeld(ReadThroughCache cache)
    {
        for (var b = 0UL; b < 3; b++)
        {
            if (!cache.Filters.TryGet(BigUserBase + b, out _))
            {
                return false;
            }
        }

        return true;
    }

    private static async Task LoadRowsAsync(MariaDbServer server, bool rocksDb)
    {
        // MyRocks holds a transaction's row locks in memory (rocksdb_max_row_locks): commit every few thousand rows.
        var session = rocksDb ? "SET SESSION rocksdb_commit_in_the_middle = 1; " : "SET SESSION unique_checks = 0; ";
        // The Sequence engine generates the rows inside the server: one multi-row INSERT ... SELECT per population.
        const string Table = "`cn_0`.`reads_0`";
        await server.SqlAsync(
            session +
            $"INSERT INTO {Table} SELECT {1} + u.seq, 0, r.seq * 7919, 1700000000 FROM seq_0_to_{HotUsers - 1} u, seq_1_to_{HotRows} r; " +
            $"INSERT INTO {Table} SELECT {MissUserBase} + u.seq, 0, r.seq * 7919, 1700000000 FROM seq_0_to_{MissUsers - 1} u, seq_1_to_{MissRows} r; " +
            $"INSERT INTO {Table} SELECT {BigUserBase} + u.seq, 0, r.seq * 2, 1700000000 FROM seq_0_to_2 u, seq_1_to_{BigRows} r;",
            "cn_0");
    }

    private static async Task PreloadAsync(ReadThroughCache cache, ulong[] ids)
    {
        var bitmap = new byte[Ids / 8];
        for (var u = 1UL; u <= HotUsers; u++)
        {
            await cache.CheckAsync(u, 0, ids, bitmap, passthrough: false, CancellationToken.None);
        }

        await WaitAsync(() => cache.Filters.Users >= HotUsers && cache.RebuildsInFlight == 0, TimeSpan.FromMinutes(2));
        var answer = await cache.CheckAsync(1, 0, ids, bitmap, passthrough: false, CancellationToken.None);
        if (answer.Source != CheckSource.Memory || answer.UnreadCount > Ids - HotRows)
        {
            throw new InvalidOperationException($"a preloaded user answered {answer}");
        }
    }

    private static double HitInProcess(ReadThroughCache cache, ulong[] ids, int seconds)
    {
        var bitmap = new byte[Ids / 8];
        var warm = Stopwatch.GetTimestamp() + (2 * Stopwatch.Frequency);
        var user = 0UL;
        while (Stopwatch.GetTimestamp() < warm)
        {
            HitOnce(cache, (user++ % HotUsers) + 1, ids, bitmap);
        }

        long calls = 0;
        var started = Stopwatch.GetTimestamp();
        var end = started + (seconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < end)
        {
            for (var i = 0; i < 256; i++)
            {
                HitOnce(cache, (user++ % HotUsers) + 1, ids, bitmap);
            }

            calls += 256;
        }

        return calls / Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    private static void HitOnce(ReadThroughCache cache, ulong user, ulong[] ids, byte[] bitmap)
    {
        var pending = cache.CheckAsync(user, 0, ids, bitmap, passthrough: false, CancellationToken.None);
        if (!pending.IsCompletedSuccessfully || pending.Result.Source != CheckSource.Memory)
        {
            throw new InvalidOperationException("a hit did not complete synchronously from memory");
        }
    }

    private static async Task<Load> HitThroughGrpcAsync(CallInvoker invoker, ulong[] ids, int concurrency, int seconds)
    {
        var requests = Enumerable.Range(1, 64).Select(u =>
        {
            var check = new CheckRequest { UserId = (ulong)u };
            check.ContentIds.Add(ids);
            return new CacheCheckRequest { Request = check };
        }).ToArray();
        var first = await new CacheNodeClient(invoker).CheckAsync(requests[0], BenchHost.Within(5000)).ResponseAsync;
        if (first.Source != AnswerSource.Memory)
        {
            throw new InvalidOperationException("the gRPC hit was not answered from memory");
        }

        await RunWorkersAsync(invoker, requests, concurrency, Stopwatch.GetTimestamp() + (2 * Stopwatch.Frequency), samples: null);
        var samples = new List<long>[concurrency];
        var started = Stopwatch.GetTimestamp();
        await RunWorkersAsync(invoker, requests, concurrency, started + (seconds * Stopwatch.Frequency), samples);
        var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var all = samples.SelectMany(s => s).ToList();
        all.Sort();
        return new Load(all.Count / elapsed, Ms(all, 0.5), Ms(all, 0.99));
    }

    private static Task RunWorkersAsync(CallInvoker invoker, CacheCheckRequest[] requests, int concurrency, long end, List<long>[]? samples) =>
        Task.WhenAll(Enumerable.Range(0, concurrency).Select(w => Task.Run(async () =>
        {
            var mine = new List<long>(1 << 16);
            var n = w;
            while (Stopwatch.GetTimestamp() < end)
            {
                var started = Stopwatch.GetTimestamp();
                await new CacheNodeClient(invoker).CheckAsync(requests[n++ % requests.Length], BenchHost.Within(5000)).ResponseAsync;
                mine.Add(Stopwatch.GetTimestamp() - started);
            }

            if (samples is not null)
            {
                samples[w] = mine;
            }
        })));

    private static async Task MissesAsync(ReadThroughCache cache, ulong[] ids, Func<ulong> nextUser, int seconds, Func<bool>? during, List<long> samples)
    {
        var bitmap = new byte[Ids / 8];
        var end = Stopwatch.GetTimestamp() + (seconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < end && (during is null || during()))
        {
            var user = nextUser();
            if (user >= MissUserBase + MissUsers)
            {
                break;
            }

            var started = Stopwatch.GetTimestamp();
            var answer = await cache.CheckAsync(user, 0, ids, bitmap, passthrough: false, CancellationToken.None);
            samples.Add(Stopwatch.GetTimestamp() - started);
            if (answer.Source != CheckSource.Database || answer.UnreadCount != Ids - MissRows)
            {
                throw new InvalidOperationException($"a miss answered {answer}");
            }
        }
    }

    private static async Task MemoryAsync(int rows, int users)
    {
        var options = new BloomFilterOptions { TargetFalsePositiveRate = 0.01 };
        await using var cache = new ReadThroughCache(ShippedDefaults.Cache("memory", 1L << 32, options), new NoDatabaseSource(), TimeProvider.System, NullLogger.Instance);
        var keys = new ContentKey[rows];
        long bitBytes = 0;
        for (var u = 1; u <= users; u++)
        {
            for (var i = 0; i < rows; i++)
            {
                keys[i] = new ContentKey(0, (ulong)((u * 1_000_003L) + i));
            }

            var filter = UserFilter.Rebuild(keys, options);
            bitBytes += filter.BitBytes;
            cache.Filters.Install((ulong)u, filter);
        }

        // FilterTable.Bytes charges every array, object and the index table (checked against the runtime's allocation
        // counter by FilterTableMemoryTests), so bytes − bits is the whole overhead.
        var n = cache.Filters.Users;
        var charged = cache.Filters.Bytes;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {rows:N0} | {n} | {(double)charged / n:F0} | {(double)bitBytes / n:F0} | {(double)(charged - bitBytes) / n:F1} | {(double)cache.Filters.IndexBytes / n:F1} |"));
    }

    private static string StringOption(string[] args, string name, string fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : fallback;
    }

    private static double Ms(List<long> sorted, double q) =>
        sorted.Count == 0 ? double.NaN : sorted[(int)Math.Min(sorted.Count - 1, q * sorted.Count)] * 1000.0 / Stopwatch.Frequency;

    private static async Task WaitAsync(Func<bool> condition, TimeSpan limit)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(limit.TotalSeconds * Stopwatch.Frequency);
        while (!condition())
        {
            if (Stopwatch.GetTimestamp() > deadline)
            {
                throw new TimeoutException("the cache node did not reach the expected state");
            }

            await Task.Delay(20);
        }
    }

    private sealed record Latency(int Calls, double P50, double P99);

    private sealed record Load(double CallsPerSecond, double P50, double P99);
}
