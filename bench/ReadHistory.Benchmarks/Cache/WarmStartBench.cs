using System.Diagnostics;
using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ReadHistory.Api.Internal.V1;
using ReadHistory.Core.Filters;
using ReadHistory.Rpc;
using ReadHistory.Rpc.Server;
using ReadHistory.Server.Cache;

namespace ReadHistory.Benchmarks.Cache;

/// <summary>
/// <c>warm-start [--gib 1] [--filter-bytes 1024] [--chunk-bytes 1048576] [--runs 3] [--gc-profile] [--peer-process]</c>:
/// a peer node holding <c>gib</c> GiB of ~1 KiB filters serves CacheNode.Snapshot on Kestrel (h2c, 127.0.0.1); a
/// receiver node warm-starts from it with <see cref="WarmStarter"/> over our gRPC client. The peer lives in the same
/// process, or with <c>--peer-process</c> in a child process of its own (as a peer node would: its GC and JIT apart).
/// Prints per run the time, MiB/s, users/s, CPU (the receiver's process, and the peer's when apart) and the receiver's
/// managed allocation, then the medians; <c>--gc-profile</c> adds the collections per generation and the types
/// allocating most (the runtime's sampled allocation ticks, about one per 100 KB). <c>--serve</c> is the child's mode.
/// </summary>
internal static class WarmStartBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var inv = CultureInfo.InvariantCulture;
        var gib = double.Parse(Option(args, "--gib") ?? "1", inv);
        var filterBytes = int.Parse(Option(args, "--filter-bytes") ?? "1024", inv);
        var chunkBytes = int.Parse(Option(args, "--chunk-bytes") ?? SnapshotSender.DefaultChunkBytes.ToString(inv), inv);
        var runs = int.Parse(Option(args, "--runs") ?? "3", inv);
        var profile = args.Contains("--gc-profile");
        var target = (long)(gib * (1L << 30));
        var options = new BloomFilterOptions { Seed = 7 };
        var items = ItemsForSnapshotBytes(filterBytes, options);
        var sample = UserFilter.Create(items, options);
        var users = (int)(target / sample.SnapshotLength);
        var budget = 2 * users * sample.MemoryBytes;
        if (args.Contains("--serve"))
        {
            return await ServeAsync(users, items, options, budget, chunkBytes);
        }

        if (args.Contains("--peer-process"))
        {
            return await ReceiveFromChildAsync(args, users, options, budget, chunkBytes, runs, profile);
        }

        var fill = Stopwatch.StartNew();
        await using var peer = Fill(users, items, options, budget);
        Console.WriteLine(string.Create(inv, $"peer: {users:N0} users x {sample.SnapshotLength} snapshot bytes ({sample.MemoryBytes} heap bytes) = {(double)users * sample.SnapshotLength / (1 << 20):F0} MiB, filled in {fill.Elapsed.TotalSeconds:F1} s; chunk {chunkBytes} bytes; {Environment.ProcessorCount} cores (machine shared)"));
        var app = await StartPeerAsync(peer);
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        var code = await ReceiveAsync(address, users, options, budget, chunkBytes, runs, profile, peerProcess: null);
        await app.StopAsync();
        return code;
    }

    /// <summary>The peer's cache: <paramref name="users"/> filters of <paramref name="items"/> items, each half full of random ids.</summary>
    private static ReadThroughCache Fill(int users, int items, BloomFilterOptions options, long budget)
    {
        var peer = new ReadThroughCache(new CacheOptions { Pool = "bench", BudgetBytes = budget, Filter = options }, new NoDatabaseSource(), TimeProvider.System, NullLogger.Instance);
        var random = new Random(42);
        var ids = new ulong[items / 2];
        for (var user = 1; user <= users; user++)
        {
            var filter = UserFilter.Create(items, options);
            for (var i = 0; i < ids.Length; i++)
            {
                ids[i] = (ulong)random.NextInt64(1, long.MaxValue);
            }

            filter.AddMany(1, ids);
            peer.Filters.Install((ulong)user, filter);
        }

        return peer;
    }

    /// <summary>The child's side of --peer-process: fill, serve, print the address, serve until standard input closes.</summary>
    private static async Task<int> ServeAsync(int users, int items, BloomFilterOptions options, long budget, int chunkBytes)
    {
        var fill = Stopwatch.StartNew();
        await using var peer = Fill(users, items, options, budget);
        var app = await StartPeerAsync(peer);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"peer: {users:N0} users filled in {fill.Elapsed.TotalSeconds:F1} s; chunk {chunkBytes} bytes"));
        Console.WriteLine("listening " + address);
        await Console.In.ReadToEndAsync();
        await app.StopAsync();
        return 0;
    }

    /// <summary>Starts this program as the peer (--serve) in a child process, then receives from it.</summary>
    private static async Task<int> ReceiveFromChildAsync(string[] args, int users, BloomFilterOptions options, long budget, int chunkBytes, int runs, bool profile)
    {
        var info = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
        {
            info.ArgumentList.Add(typeof(WarmStartBench).Assembly.Location);
        }

        foreach (var arg in args.Where(static a => a is not "--peer-process" and not "--gc-profile"))
        {
            info.ArgumentList.Add(arg);
        }

        info.ArgumentList.Add("--serve");
        using var child = Process.Start(info) ?? throw new InvalidOperationException("could not start the peer process");
        try
        {
            Uri? address = null;
            while (address is null && await child.StandardOutput.ReadLineAsync() is { } line)
            {
                Console.WriteLine("  " + line);
                if (line.StartsWith("listening ", StringComparison.Ordinal))
                {
                    address = new Uri(line["listening ".Length..]);
                }
            }

            return address is null
                ? throw new InvalidOperationException("the peer process ended without listening")
                : await ReceiveAsync(address, users, options, budget, chunkBytes, runs, profile, child);
        }
        finally
        {
            child.StandardInput.Close();
            if (!child.WaitForExit(30_000))
            {
                child.Kill(entireProcessTree: true);
            }
        }
    }

    private static async Task<int> ReceiveAsync(Uri address, int users, BloomFilterOptions options, long budget, int chunkBytes, int runs, bool profile, Process? peerProcess)
    {
        var inv = CultureInfo.InvariantCulture;
        var results = new List<(double Seconds, double MiBps, double UsersPerSecond, double CpuSeconds, double AllocMiB)>();
        for (var run = 1; run <= runs; run++)
        {
            await using (var receiver = new ReadThroughCache(new CacheOptions { Pool = "bench", BudgetBytes = budget, Filter = options }, new NoDatabaseSource(), TimeProvider.System, NullLogger.Instance))
            using (var starter = new WarmStarter(receiver, new WarmStartOptions { ChunkBytes = chunkBytes, Timeout = TimeSpan.FromMinutes(10) }, TimeProvider.System, NullLogger.Instance))
            {
                GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
                var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                peerProcess?.Refresh();
                var peerCpu = peerProcess?.TotalProcessorTime ?? TimeSpan.Zero;
                var allocated = GC.GetTotalAllocatedBytes(precise: true);
                var paused = GC.GetTotalPauseDuration();
                using var sampler = profile ? new AllocationSampler() : null;
                var result = await starter.WarmStartAsync(address, "bench", CancellationToken.None);
                if (sampler is not null)
                {
                    Console.WriteLine(string.Create(inv, $"collections: gen0 {sampler.Gen0}, gen1 {sampler.Gen1}, gen2 {sampler.Gen2}; sampled allocation by type:"));
                    foreach (var (type, bytes) in sampler.Bytes.OrderByDescending(static p => p.Value).Take(15))
                    {
                        Console.WriteLine(string.Create(inv, $"  {bytes / (1 << 20),8} MiB  {type}"));
                    }
                }

                var cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
                peerProcess?.Refresh();
                var peerCpuSeconds = ((peerProcess?.TotalProcessorTime ?? TimeSpan.Zero) - peerCpu).TotalSeconds;
                var allocMiB = (GC.GetTotalAllocatedBytes(precise: true) - allocated) / (double)(1 << 20);
                var pauseSeconds = (GC.GetTotalPauseDuration() - paused).TotalSeconds;
                if (result.Outcome != WarmStartOutcome.Completed || result.Users != users)
                {
                    Console.Error.WriteLine($"run {run}: {result.Outcome} with {result.Users} users: {result.Error}");
                    return 1;
                }

                var seconds = result.Duration.TotalSeconds;
                var mib = result.Bytes / (double)(1 << 20);
                results.Add((seconds, mib / seconds, result.Users / seconds, cpuSeconds, allocMiB));
                Console.WriteLine(string.Create(inv, $"run {run}: {mib:F0} MiB, {result.Users:N0} users in {seconds:F2} s = {mib / seconds:F0} MiB/s, {result.Users / seconds:N0} users/s; CPU {cpuSeconds:F2} s{(peerProcess is null ? "" : string.Create(inv, $" + peer {peerCpuSeconds:F2} s"))} (GC pauses {pauseSeconds:F2} s); allocated {allocMiB:F0} MiB"));
            }
        }

        Console.WriteLine(string.Create(inv, $"median of {runs}: {Median(results.Select(r => r.Seconds)):F2} s, {Median(results.Select(r => r.MiBps)):F0} MiB/s, {Median(results.Select(r => r.UsersPerSecond)):N0} users/s, CPU {Median(results.Select(r => r.CpuSeconds)):F2} s, allocated {Median(results.Select(r => r.AllocMiB)):F0} MiB"));
        return 0;
    }

    private static int ItemsForSnapshotBytes(int bytes, BloomFilterOptions options)
    {
        var items = 1;
        while (UserFilter.Create(items + 1, options).SnapshotLength <= bytes)
        {
            items++;
        }

        return items;
    }

    private static async Task<WebApplication> StartPeerAsync(ReadThroughCache peer)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenGrpc(new IPEndPoint(IPAddress.Loopback, 0)));
        builder.Services.AddGrpcServer();
        var app = builder.Build();
        var sender = new SnapshotSender(SnapshotCursorSource.None);
        app.MapGrpcService(ServerServiceDefinition.CreateBuilder(CacheNodeMethods.ServiceName)
            .AddServerStreamingMethod(CacheNodeMethods.Snapshot, (request, stream, context) => sender.SendAsync(peer, request, stream, context.CancellationToken))
            .Build());
        await app.StartAsync();
        return app;
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string? Option(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
