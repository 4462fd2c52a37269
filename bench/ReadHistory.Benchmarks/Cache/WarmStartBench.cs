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
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using ReadHistory.Server.Hosting;
using ReadHistory.Benchmarks.Shared;
using ReadHistory.Server.Cache;

namespace ReadHistory.Benchmarks.Cache;

/// <summary>
/// <c>warm-start [--gib 1] [--filter-bytes 1024] [--chunk-bytes 1048576] [--window 1048576] [--runs 3] [--gc-profile] [--peer-process | --fresh-receiver]</c>:
/// a peer node holding <c>gib</c> GiB of ~1 KiB filters serves CacheNode.Snapshot on Kestrel (h2c, 127.0.0.1); a
/// receiver node warm-starts from it with <see cref="WarmStarter"/> over our gRPC client. The peer lives in the same
/// process, or with <c>--peer-process</c> in a child process of its own (as a peer node would: its GC and JIT apart);
/// <c>--fresh-receiver</c> also makes each run's receiver a new process (as a restarting node is), the peer serving
/// every run (run 1 meets a peer that never served a Snapshot, later runs one that has).
/// Prints per run the time, MiB/s, users/s, CPU (the receiver's process, and the peer's when apart) and the receiver's
/// managed allocation, then the medians; <c>--gc-profile</c> adds the collections per generation and the types
/// allocating most (the runtime's sampled allocation ticks, about one per 100 KB). <c>--serve</c> and <c>--receive</c>
/// are the children's modes.
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
        var window = int.Parse(Option(args, "--window") ?? "1048576", inv); // the shipped default (appsettings.json: Cache:WarmStartWindowBytes)
        var starting = new WarmStartOptions { ChunkBytes = chunkBytes, WindowBytes = window, Timeout = TimeSpan.FromMinutes(10) };
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

        if (Option(args, "--receive") is { } peerAddress)
        {
            // A --fresh-receiver run: one warm start, its figures on one line for the parent.
            Console.WriteLine(string.Create(inv, $"receiver: process {Environment.ProcessId}"));
            var once = await ReceiveOnceAsync(new Uri(peerAddress), users, options, budget, starting, profile, run: 1);
            Console.WriteLine(once?.Format());
            return once is null ? 1 : 0;
        }

        if (args.Contains("--peer-process") || args.Contains("--fresh-receiver"))
        {
            return await ReceiveFromChildAsync(args, users, options, budget, starting, runs, profile);
        }

        var fill = Stopwatch.StartNew();
        await using var peer = Fill(users, items, options, budget);
        Console.WriteLine(string.Create(inv, $"peer: {users:N0} users x {sample.SnapshotLength} snapshot bytes ({sample.MemoryBytes} heap bytes) = {(double)users * sample.SnapshotLength / (1 << 20):F0} MiB, filled in {fill.Elapsed.TotalSeconds:F1} s; chunk {chunkBytes} bytes; {Environment.ProcessorCount} cores (machine shared)"));
        var app = await StartPeerAsync(peer);
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        var code = await ReceiveAsync(address, users, options, budget, starting, runs, profile, peerProcess: null);
        await app.StopAsync();
        return code;
    }

    /// <summary>The peer's cache: <paramref name="users"/> filters of <paramref name="items"/> items, each half full of random ids.</summary>
    private static ReadThroughCache Fill(int users, int items, BloomFilterOptions options, long budget)
    {
        var peer = new ReadThroughCache(ShippedDefaults.Cache("bench", budget, options), new NoDatabaseSource(), TimeProvider.System, NullLogger.Instance);
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
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"peer: process {Environment.ProcessId}, {users:N0} users filled in {fill.Elapsed.TotalSeconds:F1} s; chunk {chunkBytes} bytes"));
        Console.WriteLine("listening " + address);
        await Console.In.ReadToEndAsync();
        await app.StopAsync();
        return 0;
    }

    /// <summary>Starts this program as the peer (--serve) in a child process, then receives from it.</summary>
    private static async Task<int> ReceiveFromChildAsync(string[] args, int users, BloomFilterOptions options, long budget, WarmStartOptions starting, int runs, bool profile)
    {
        var info = ChildStartInfo(args.Where(static a => a is not "--peer-process" and not "--gc-profile" and not "--fresh-receiver"));
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
                : args.Contains("--fresh-receiver")
                    ? await ReceiveInFreshProcessesAsync(address, child, args, runs)
                    : await ReceiveAsync(address, users, options, budget, starting, runs, profile, child);
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

    private static async Task<int> ReceiveAsync(Uri address, int users, BloomFilterOptions options, long budget, WarmStartOptions starting, int runs, bool profile, Process? peerProcess)
    {
        var results = new List<RunResult>();
        for (var run = 1; run <= runs; run++)
        {
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            peerProcess?.Refresh();
            var peerCpu = peerProcess?.TotalProcessorTime ?? TimeSpan.Zero;
            var result = await ReceiveOnceAsync(address, users, options, budget, starting, profile, run);
            if (result is null)
            {
                return 1;
            }

            peerProcess?.Refresh();
            results.Add(result with { PeerCpuSeconds = peerProcess is null ? null : (peerProcess.TotalProcessorTime - peerCpu).TotalSeconds });
            Console.WriteLine(results[^1].Describe(run));
        }

        PrintMedians(results);
        return 0;
    }

    /// <summary>One warm start into a new receiver in this process; null (after saying why) when it did not complete.</summary>
    private static async Task<RunResult?> ReceiveOnceAsync(Uri address, int users, BloomFilterOptions options, long budget, WarmStartOptions starting, bool profile, int run)
    {
        var inv = CultureInfo.InvariantCulture;
        await using var receiver = new ReadThroughCache(ShippedDefaults.Cache("bench", budget, options), new NoDatabaseSource(), TimeProvider.System, NullLogger.Instance);
        using var starter = new WarmStarter(receiver, starting, TimeProvider.System, NullLogger.Instance);
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
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
        var allocMiB = (GC.GetTotalAllocatedBytes(precise: true) - allocated) / (double)(1 << 20);
        var pauseSeconds = (GC.GetTotalPauseDuration() - paused).TotalSeconds;
        if (result.Outcome != WarmStartOutcome.Completed || result.Users != users)
        {
            Console.Error.WriteLine($"run {run}: {result.Outcome} with {result.Users} users: {result.Error}");
            return null;
        }

        return new RunResult(result.Duration.TotalSeconds, result.Bytes / (double)(1 << 20), result.Users, cpuSeconds, null, pauseSeconds, allocMiB);
    }

    /// <summary>
    /// --fresh-receiver: the peer in a child process serving every run, each run's receiver a new child process of its
    /// own (--receive), as a restarting node is: run 1 meets a peer that never served, later runs one that has.
    /// </summary>
    private static async Task<int> ReceiveInFreshProcessesAsync(Uri address, Process peerProcess, string[] args, int runs)
    {
        var results = new List<RunResult>();
        for (var run = 1; run <= runs; run++)
        {
            var info = ChildStartInfo(args.Where(static a => a is not "--peer-process" and not "--fresh-receiver"));
            info.ArgumentList.Add("--receive");
            info.ArgumentList.Add(address.ToString());
            peerProcess.Refresh();
            var peerCpu = peerProcess.TotalProcessorTime;
            using var child = Process.Start(info) ?? throw new InvalidOperationException("could not start a receiver process");
            RunResult? result = null;
            while (await child.StandardOutput.ReadLineAsync() is { } line)
            {
                if (RunResult.TryParse(line, out var parsed))
                {
                    result = parsed;
                }
                else
                {
                    Console.WriteLine("  " + line);
                }
            }

            await child.WaitForExitAsync();
            peerProcess.Refresh();
            if (child.ExitCode != 0 || result is null)
            {
                Console.Error.WriteLine($"run {run}: the receiver process ended with {child.ExitCode}");
                return 1;
            }

            results.Add(result with { PeerCpuSeconds = (peerProcess.TotalProcessorTime - peerCpu).TotalSeconds });
            Console.WriteLine(results[^1].Describe(run));
        }

        PrintMedians(results);
        return 0;
    }

    private static ProcessStartInfo ChildStartInfo(IEnumerable<string> args)
    {
        var info = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
        {
            info.ArgumentList.Add(typeof(WarmStartBench).Assembly.Location);
        }

        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return info;
    }

    private static void PrintMedians(List<RunResult> results) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"median of {results.Count}: {Median(results.Select(r => r.Seconds)):F2} s, {Median(results.Select(r => r.MiBps)):F0} MiB/s, {Median(results.Select(r => r.UsersPerSecond)):N0} users/s, CPU {Median(results.Select(r => r.CpuSeconds)):F2} s{(results[0].PeerCpuSeconds is null ? "" : string.Create(CultureInfo.InvariantCulture, $" + peer {Median(results.Select(r => r.PeerCpuSeconds ?? 0)):F2} s"))}, allocated {Median(results.Select(r => r.AllocMiB)):F0} MiB"));

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
        // The node's own listener settings (HTTP/2 only, the raised response buffer) and Snapshot method.
        builder.WebHost.ConfigureKestrel(kestrel => ServerHost.ListenGrpc(kestrel, new IPEndPoint(IPAddress.Loopback, 0), tls: null, GrpcListener.Internal));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(new PeerService(peer, new SnapshotSender(SnapshotCursorSource.None)));
        builder.Services.AddSingleton<IServiceMethodProvider<PeerService>, PeerService.MethodProvider>();
        var app = builder.Build();
        app.MapGrpcService<PeerService>();
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

    /// <summary>The figures of one run; a --receive child hands them to its parent on one "result" line.</summary>
    private sealed record RunResult(double Seconds, double MiB, long Users, double CpuSeconds, double? PeerCpuSeconds, double PauseSeconds, double AllocMiB)
    {
        public double MiBps => MiB / Seconds;

        public double UsersPerSecond => Users / Seconds;

        public static bool TryParse(string line, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out RunResult? result)
        {
            var parts = line.Split(' ');
            result = null;
            if (parts.Length != 7 || parts[0] != "result")
            {
                return false;
            }

            var inv = CultureInfo.InvariantCulture;
            result = new RunResult(double.Parse(parts[1], inv), double.Parse(parts[2], inv), long.Parse(parts[3], inv), double.Parse(parts[4], inv), null, double.Parse(parts[5], inv), double.Parse(parts[6], inv));
            return true;
        }

        public string Format() => string.Create(CultureInfo.InvariantCulture, $"result {Seconds:R} {MiB:R} {Users} {CpuSeconds:R} {PauseSeconds:R} {AllocMiB:R}");

        public string Describe(int run) => string.Create(CultureInfo.InvariantCulture,
            $"run {run}: {MiB:F0} MiB, {Users:N0} users in {Seconds:F2} s = {MiBps:F0} MiB/s, {UsersPerSecond:N0} users/s; CPU {CpuSeconds:F2} s{(PeerCpuSeconds is { } peer ? string.Create(CultureInfo.InvariantCulture, $" + peer {peer:F2} s") : "")} (GC pauses {PauseSeconds:F2} s); allocated {AllocMiB:F0} MiB");
    }

    /// <summary>CacheNode.Snapshot alone, bound with the node's encoded-chunk method.</summary>
    internal sealed class PeerService(ReadThroughCache cache, SnapshotSender sender)
    {
        public Task SnapshotAsync(SnapshotRequest request, IServerStreamWriter<EncodedSnapshotChunk> stream, ServerCallContext context) =>
            sender.SendAsync(cache, request, stream, context.CancellationToken);

        internal sealed class MethodProvider : IServiceMethodProvider<PeerService>
        {
            public void OnServiceMethodDiscovery(ServiceMethodProviderContext<PeerService> context) =>
                context.AddServerStreamingMethod(SnapshotMethods.Encoded, [], static (service, request, stream, callContext) => service.SnapshotAsync(request, stream, callContext));
        }
    }
}
