using ReadHistory.Api;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ReadHistory.Api.V1;
using Grpc.Core;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using ReadHistoryBase = ReadHistory.Api.V1.ReadHistory.ReadHistoryBase;
using ReadHistoryClient = ReadHistory.Api.V1.ReadHistory.ReadHistoryClient;
using Grpc.Net.Client;

namespace ReadHistory.Benchmarks.Rpc;

/// <summary>
/// <c>rpc-loopback [--seconds N] [--concurrency 1,16,64] [--runs N]</c>: our server on Kestrel (h2c, 127.0.0.1) and our
/// client in one process; unary <c>readhistory.v1.ReadHistory/Check</c> with 400 ids answered by a stub handler with a
/// 50-byte bitmap. Prints calls/s and P50/P99/P99.9 per concurrency and run, then the medians over runs.
/// </summary>
internal static class RpcLoopbackBench
{
    private static readonly CheckResponse Answer = new()
    {
        ReadBitmap = ByteString.CopyFrom(new byte[50]),
        UnreadCount = 400,
        Source = AnswerSource.Memory,
    };

    public static async Task<int> RunAsync(string[] args)
    {
        var inv = CultureInfo.InvariantCulture;
        var seconds = int.Parse(Option(args, "--seconds") ?? "10", inv);
        var runs = int.Parse(Option(args, "--runs") ?? "2", inv);
        var concurrencies = (Option(args, "--concurrency") ?? "1,16,64").Split(',').Select(c => int.Parse(c, inv)).ToArray();
        Console.WriteLine($"rpc-loopback: unary Check, 400 ids -> 50-byte bitmap, {seconds} s per run, {runs} runs, concurrency {string.Join(",", concurrencies)}; " +
            $"{Environment.ProcessorCount} cores, server GC {System.Runtime.GCSettings.IsServerGC}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");

        await using var app = await StartServerAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using var channel = ServiceChannels.Create(address);
        var invoker = new ReadHistoryClient(channel);
        var request = CreateRequest();

        // Warm up: JIT, tiered compilation, connections.
        await MeasureAsync(invoker, request, 16, TimeSpan.FromSeconds(Math.Min(5, seconds)));

        var results = new List<(int Concurrency, Result Result)>();
        Console.WriteLine();
        Console.WriteLine("| concurrency | run | calls/s | P50 ms | P99 ms | P99.9 ms | CPU µs/call (client+server) | allocated B/call |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (var run = 1; run <= runs; run++)
        {
            foreach (var concurrency in concurrencies)
            {
                var result = await MeasureAsync(invoker, request, concurrency, TimeSpan.FromSeconds(seconds));
                results.Add((concurrency, result));
                Console.WriteLine(string.Create(inv, $"| {concurrency} | {run} | {result.CallsPerSecond:F0} | {result.P50Ms:F3} | {result.P99Ms:F3} | {result.P999Ms:F3} | {result.CpuMicrosecondsPerCall:F0} | {result.BytesPerCall:F0} |"));
            }
        }

        Console.WriteLine();
        Console.WriteLine("Medians over runs:");
        Console.WriteLine("| concurrency | calls/s | P50 ms | P99 ms | P99.9 ms | CPU µs/call | allocated B/call |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var concurrency in concurrencies)
        {
            var mine = results.Where(r => r.Concurrency == concurrency).Select(r => r.Result).ToList();
            Console.WriteLine(string.Create(inv,
                $"| {concurrency} | {Median(mine.Select(r => r.CallsPerSecond)):F0} | {Median(mine.Select(r => r.P50Ms)):F3} | {Median(mine.Select(r => r.P99Ms)):F3} | {Median(mine.Select(r => r.P999Ms)):F3} | {Median(mine.Select(r => r.CpuMicrosecondsPerCall)):F0} | {Median(mine.Select(r => r.BytesPerCall)):F0} |"));
        }

        await app.StopAsync();
        return 0;
    }

    private static async Task<WebApplication> StartServerAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(new IPEndPoint(IPAddress.Loopback, 0), listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        var app = builder.Build();
        app.MapGrpcService<CannedCheckService>();
        await app.StartAsync();
        return app;
    }

    private static CheckRequest CreateRequest()
    {
        var random = new Random(42);
        var request = new CheckRequest { UserId = 123_456_789, ContentType = 1, SessionId = "session-1" };
        for (var i = 0; i < 400; i++)
        {
            request.ContentIds.Add((ulong)random.NextInt64(1, long.MaxValue));
        }

        return request;
    }

    private static async Task<Result> MeasureAsync(ReadHistoryClient invoker, CheckRequest request, int concurrency, TimeSpan duration)
    {
        var stopAt = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var workers = new Task<List<long>>[concurrency];
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: false);
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < concurrency; i++)
        {
            workers[i] = Task.Run(async () =>
            {
                var latencies = new List<long>(1 << 16);
                while (Stopwatch.GetTimestamp() < stopAt)
                {
                    var begin = Stopwatch.GetTimestamp();
                    using var call = invoker.CheckAsync(request);
                    await call.ResponseAsync.ConfigureAwait(false);
                    latencies.Add(Stopwatch.GetTimestamp() - begin);
                }

                return latencies;
            });
        }

        var all = (await Task.WhenAll(workers)).SelectMany(l => l).ToArray();
        var elapsed = (Stopwatch.GetTimestamp() - started) / (double)Stopwatch.Frequency;
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        var allocated = GC.GetTotalAllocatedBytes(precise: false) - allocatedBefore;
        Array.Sort(all);
        return new Result(all.Length / elapsed, Percentile(all, 0.50), Percentile(all, 0.99), Percentile(all, 0.999), cpu.TotalMicroseconds / Math.Max(1, all.Length), allocated / (double)Math.Max(1, all.Length));
    }

    private static double Percentile(long[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)] * 1000.0 / Stopwatch.Frequency;

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string? Option(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }

    /// <summary>Check answered with the same canned response: what is measured is the gRPC stack.</summary>
    private sealed class CannedCheckService : ReadHistoryBase
    {
        public override Task<CheckResponse> Check(CheckRequest request, ServerCallContext context) => Task.FromResult(Answer);
    }

    private readonly record struct Result(double CallsPerSecond, double P50Ms, double P99Ms, double P999Ms, double CpuMicrosecondsPerCall, double BytesPerCall);
}
