using ReadHistory.Api;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using ReadHistory.Api.Internal.V1;
using ReadHistory.Api.V1;
using Grpc.Core;
using Grpc.Net.Client;
using ReadHistory.Benchmarks.Shared;
using ReadHistory.Server.Hosting;
using ReadHistory.TestSupport;
using SchemaMigrator = ReadHistory.Server.Storage.SchemaMigrator;
using CacheNodeClient = ReadHistory.Api.Internal.V1.CacheNode.CacheNodeClient;
using ReadHistoryClient = ReadHistory.Api.V1.ReadHistory.ReadHistoryClient;

namespace ReadHistory.Benchmarks.Proxy;

/// <summary>
/// <c>proxy-hop [--seconds N] [--rounds N] [--concurrency N] [--auth]</c>: a private MariaDB, one cache node (role cache)
/// and one proxy (role proxy, 1 pool × 1 slot × 1 replica) in this process on loopback. Unary Check of 400 ids for a
/// cached user, sequentially, straight to the node (CacheNode.Check) and through the proxy (ReadHistory.Check),
/// interleaved rounds; then both at a fixed concurrency to estimate the proxy's CPU per call (process CPU difference).
/// With <c>--auth</c>, a second proxy in front of the same node runs with Auth:Mode ApiKeys and every call to it carries
/// a bearer key: a third path in every round, and the ratio of its throughput to the proxy without authentication.
/// </summary>
internal static class ProxyHopBench
{
    private const ulong User = 4242;

    // The shape `readhistory-cli keys new` makes: "rh_" and 43 characters.
    private const string BenchKey = "rh_benchbenchbenchbenchbenchbenchbenchbench000";

    public static async Task<int> RunAsync(string[] args)
    {
        var seconds = BenchHost.IntOption(args, "--seconds", 10);
        var rounds = BenchHost.IntOption(args, "--rounds", 2);
        var concurrency = BenchHost.IntOption(args, "--concurrency", 32);
        var auth = args.Contains("--auth");
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine($"proxy-hop: {seconds} s per run, {rounds} interleaved rounds, concurrency {concurrency} for throughput{(auth ? ", with a proxy on API keys" : string.Empty)}; {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        await using var server = await MariaDbServer.StartAsync(new MariaDbServerOptions { RocksDb = false, Binlog = false });
        var connectionString = server.ConnectionString();

        var nodeSettings = BenchHost.Settings("cache", connectionString, "hop", 64L << 20);
        await BenchHost.MigrateAsync(nodeSettings);
        await using var node = await BenchHost.StartReadyAsync(nodeSettings);
        var proxySettings = BenchHost.ProxySettings(node, connectionString, "hop", 64L << 20);
        await using var proxy = await BenchHost.StartReadyAsync(proxySettings);
        var authSettings = new Dictionary<string, string?>(proxySettings)
        {
            ["ReadHistory:Auth:Mode"] = "ApiKeys",
            ["ReadHistory:Auth:Keys:bench:Sha256"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(BenchKey))),
            ["ReadHistory:Auth:Keys:bench:Tenants:0"] = string.Empty,
            ["ReadHistory:Auth:Keys:bench:Scopes:0"] = "read",
        };
        await using var authProxy = auth ? await BenchHost.StartReadyAsync(authSettings) : null;

        using var nodeChannel = ServiceChannels.Create(node.Internal!);
        using var proxyChannel = ServiceChannels.Create(proxy.Grpc);
        using var authChannel = authProxy is null ? null : ServiceChannels.Create(authProxy.Grpc);
        var direct = nodeChannel.CreateCallInvoker();
        var proxied = proxyChannel.CreateCallInvoker();
        var check = new CheckRequest { UserId = User };
        var mark = new MarkReadRequest { UserId = User };
        for (var i = 1UL; i <= 400; i++)
        {
            check.ContentIds.Add(i * 7919);
            if (i % 2 == 0)
            {
                mark.Items.Add(new ReadItem { ContentId = i * 7919 });
            }
        }

        await new ReadHistoryClient(proxied).MarkReadAsync(mark, BenchHost.Within(5000)).ResponseAsync;
        await WarmAsync(proxied, check);
        var wrapped = new CacheCheckRequest { Request = check };
        Func<Task> viaNode = () => new CacheNodeClient(direct).CheckAsync(wrapped, BenchHost.Within(5000)).ResponseAsync;
        Func<Task> viaProxy = () => new ReadHistoryClient(proxied).CheckAsync(check, BenchHost.Within(5000)).ResponseAsync;
        // One header set for every call, as a client holding its key sends it.
        var bearer = new Metadata { { "authorization", "Bearer " + BenchKey } };
        var authed = authChannel?.CreateCallInvoker();
        Func<Task> viaAuthProxy = () => new ReadHistoryClient(authed).CheckAsync(check, new CallOptions(bearer, DateTime.UtcNow.AddMilliseconds(5000))).ResponseAsync;
        if (authed is not null)
        {
            await new ReadHistoryClient(authed).CheckAsync(check, new CallOptions(bearer, DateTime.UtcNow.AddMilliseconds(5000))).ResponseAsync;
        }

        var nodeRuns = new List<Latency>();
        var proxyRuns = new List<Latency>();
        var authRuns = new List<Latency>();
        for (var round = 0; round < rounds; round++)
        {
            nodeRuns.Add(await SequentialAsync(viaNode, seconds));
            proxyRuns.Add(await SequentialAsync(viaProxy, seconds));
            if (authed is not null)
            {
                authRuns.Add(await SequentialAsync(viaAuthProxy, seconds));
            }
        }

        Console.WriteLine();
        Console.WriteLine("| path (sequential, 1 caller) | calls | P50 ms | P99 ms | runs (P50 / P99) |");
        Console.WriteLine("|---|---:|---:|---:|---|");
        Print("cache node direct", nodeRuns);
        Print("through the proxy", proxyRuns);
        if (authed is not null)
        {
            Print("through the proxy, API key", authRuns);
        }

        Console.WriteLine(string.Create(inv, $"added by the proxy hop: P50 {Median(proxyRuns, r => r.P50) - Median(nodeRuns, r => r.P50):F3} ms, P99 {Median(proxyRuns, r => r.P99) - Median(nodeRuns, r => r.P99):F3} ms"));

        if (args.Contains("--alloc-types") && authed is not null)
        {
            // Sampled allocation by type, the proxy without and with authentication, one run each after the rounds above.
            using var sampler = new AllocationSampler();
            foreach (var (name, path) in new[] { ("through the proxy", viaProxy), ("through the proxy, API key", viaAuthProxy), ("through the proxy", viaProxy), ("through the proxy, API key", viaAuthProxy) })
            {
                sampler.Enabled = true;
                var run = await ConcurrentAsync(path, concurrency, seconds);
                sampler.Enabled = false;
                var calls = run.CallsPerSecond * seconds;
                Console.WriteLine(string.Create(inv, $"sampled allocations, {name} ({calls:F0} calls, {run.BytesPerCall:F0} bytes per call):"));
                foreach (var (type, bytes) in sampler.Take().Take(30))
                {
                    Console.WriteLine(string.Create(inv, $"  {bytes / calls,8:F1} B/call  {type}"));
                }
            }
        }

        var nodeLoad = new List<Throughput>();
        var proxyLoad = new List<Throughput>();
        var authLoad = new List<Throughput>();
        for (var round = 0; round < rounds; round++)
        {
            nodeLoad.Add(await ConcurrentAsync(viaNode, concurrency, seconds));
            proxyLoad.Add(await ConcurrentAsync(viaProxy, concurrency, seconds));
            if (authed is not null)
            {
                authLoad.Add(await ConcurrentAsync(viaAuthProxy, concurrency, seconds));
            }
        }

        Console.WriteLine();
        Console.WriteLine($"| path (concurrency {concurrency}) | calls/s | process CPU µs per call | allocated bytes per call (process) |");
        Console.WriteLine("|---|---:|---:|---:|");
        foreach (var (name, runs) in new[] { ("cache node direct", nodeLoad), ("through the proxy", proxyLoad), ("through the proxy, API key", authLoad) })
        {
            if (runs.Count > 0)
            {
                Console.WriteLine(string.Create(inv, $"| {name} | {Median(runs, r => r.CallsPerSecond):F0} | {Median(runs, r => r.CpuMicrosPerCall):F1} | {Median(runs, r => r.BytesPerCall):F0} |"));
            }
        }

        if (authed is not null)
        {
            // Rounds alternate the two proxies, so a ratio per round compares runs seconds apart.
            var ratios = authLoad.Select((a, i) => a.CallsPerSecond / proxyLoad[i].CallsPerSecond).ToList();
            Console.WriteLine(string.Create(inv, $"authentication on / off, calls/s: off {string.Join(", ", proxyLoad.Select(r => r.CallsPerSecond.ToString("F0", inv)))}; on {string.Join(", ", authLoad.Select(r => r.CallsPerSecond.ToString("F0", inv)))}; ratio of medians {Median(authLoad, r => r.CallsPerSecond) / Median(proxyLoad, r => r.CallsPerSecond):F3}, per round {string.Join(", ", ratios.Select(r => r.ToString("F3", inv)))} (median {Median(ratios, r => r):F3}); CPU µs per call off {Median(proxyLoad, r => r.CpuMicrosPerCall):F1}, on {Median(authLoad, r => r.CpuMicrosPerCall):F1}; bytes per call off {Median(proxyLoad, r => r.BytesPerCall):F0}, on {Median(authLoad, r => r.BytesPerCall):F0}"));
        }

        var proxyCpu = Median(proxyLoad, r => r.CpuMicrosPerCall) - Median(nodeLoad, r => r.CpuMicrosPerCall);
        Console.WriteLine(string.Create(inv, $"proxy CPU per call (difference): {proxyCpu:F1} µs → about {1e6 / proxyCpu:F0} proxied calls/s per core; proxy bytes per call (difference, both ends of the extra hop): {Median(proxyLoad, r => r.BytesPerCall) - Median(nodeLoad, r => r.BytesPerCall):F0}"));
        return 0;
    }

    private static async Task WarmAsync(CallInvoker proxied, CheckRequest check)
    {
        for (var attempt = 0; attempt < 400; attempt++)
        {
            var answer = await new ReadHistoryClient(proxied).CheckAsync(check, BenchHost.Within(5000)).ResponseAsync;
            if (answer.Source == AnswerSource.Memory)
            {
                return;
            }

            await Task.Delay(25);
        }

        throw new TimeoutException("the user never became cached");
    }

    private static async Task<Latency> SequentialAsync(Func<Task> call, int seconds)
    {
        // Warm for 2 s: tiered JIT is still compiling the call path after the first few hundred calls.
        var warm = Stopwatch.GetTimestamp() + (2 * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < warm)
        {
            await call();
        }

        var samples = new List<long>(1 << 16);
        var end = Stopwatch.GetTimestamp() + (seconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < end)
        {
            var started = Stopwatch.GetTimestamp();
            await call();
            samples.Add(Stopwatch.GetTimestamp() - started);
        }

        samples.Sort();
        double Ms(double q) => samples[(int)Math.Min(samples.Count - 1, q * samples.Count)] * 1000.0 / Stopwatch.Frequency;
        return new Latency(samples.Count, Ms(0.5), Ms(0.99));
    }

    private static async Task<Throughput> ConcurrentAsync(Func<Task> call, int concurrency, int seconds)
    {
        var process = Process.GetCurrentProcess();
        process.Refresh();
        var cpu = process.TotalProcessorTime;
        var bytes = GC.GetTotalAllocatedBytes(precise: false);
        var started = Stopwatch.GetTimestamp();
        var end = started + (seconds * Stopwatch.Frequency);
        long calls = 0;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            while (Stopwatch.GetTimestamp() < end)
            {
                await call();
                Interlocked.Increment(ref calls);
            }
        })));
        var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
        process.Refresh();
        var cpuMicros = (process.TotalProcessorTime - cpu).TotalMicroseconds;
        return new Throughput(calls / elapsed, cpuMicros / calls, (GC.GetTotalAllocatedBytes(precise: false) - bytes) / (double)calls);
    }

    private static void Print(string name, List<Latency> runs) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {runs.Sum(r => r.Calls)} | {Median(runs, r => r.P50):F3} | {Median(runs, r => r.P99):F3} | {string.Join(", ", runs.Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.P50:F3}/{r.P99:F3}")))} |"));

    private static double Median<T>(List<T> runs, Func<T, double> value)
    {
        var sorted = runs.Select(value).Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private sealed record Latency(int Calls, double P50, double P99);

    private sealed record Throughput(double CallsPerSecond, double CpuMicrosPerCall, double BytesPerCall);
}
