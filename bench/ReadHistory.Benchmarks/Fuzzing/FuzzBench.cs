using System.Globalization;
using Grpc.Net.Client;
using ReadHistory.Benchmarks.Shared;
using ReadHistory.TestSupport;

namespace ReadHistory.Benchmarks.Fuzzing;

/// <summary>
/// The fuzzing modes (bench/README.md): <c>fuzz-binlog --inputs N --seed S</c>, <c>fuzz-snapshot --inputs N --seed S</c>,
/// <c>fuzz-grpc --calls N --seed S [--workers W] [--minutes M]</c> (M: stop issuing calls after M minutes, the report
/// gives the count made). Each prints its report; the exit code is 1 when anything was found.
/// </summary>
internal static class FuzzBench
{
    /// <summary>Runs the mode named by the first argument.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var seed = BenchHost.IntOption(args, "--seed", 1);
        var report = args[0] switch
        {
            "fuzz-binlog" => await BinlogAsync(BenchHost.IntOption(args, "--inputs", 1_000_000), seed),
            "fuzz-snapshot" => Snapshot(BenchHost.IntOption(args, "--inputs", 1_000_000), seed),
            "fuzz-grpc" => await GrpcAsync(BenchHost.IntOption(args, "--calls", 1_000_000), seed, BenchHost.IntOption(args, "--workers", 32), BenchHost.IntOption(args, "--minutes", 0)),
            _ => throw new ArgumentException($"unknown fuzz mode {args[0]}", nameof(args)),
        };
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores"));
        Console.WriteLine(report);
        return report.FindingTotal == 0 ? 0 : 1;
    }

    private static async Task<FuzzReport> BinlogAsync(int inputs, int seed)
    {
        await using var server = await MariaDbServer.StartAsync(new MariaDbServerOptions { RocksDb = false });
        var files = await BinlogFuzzer.CaptureAsync(server);
        var fuzzer = new BinlogFuzzer(files, seed);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"corpus: {fuzzer.CorpusSize} events from {files.Count} binlog file(s) of {files.Sum(f => f.Length):N0} bytes"));
        return fuzzer.Run(inputs);
    }

    private static FuzzReport Snapshot(int inputs, int seed)
    {
        var fuzzer = new SnapshotFuzzer(seed);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"corpus: {fuzzer.CorpusSize} streams, {fuzzer.CorpusChunks} chunks"));
        return fuzzer.Run(inputs);
    }

    private static async Task<FuzzReport> GrpcAsync(int calls, int seed, int workers, int minutes)
    {
        await using var server = await MariaDbServer.StartAsync(new MariaDbServerOptions { RocksDb = false });
        var settings = BenchHost.Settings("all", server.ConnectionString(), "fuzz", 256L << 20);
        settings["Logging:LogLevel:Default"] = "Error";
        GrpcFuzzer.Configure(settings);
        await BenchHost.MigrateAsync(settings);
        await using var host = await BenchHost.StartReadyAsync(settings);
        using var channel = GrpcChannel.ForAddress(host.Grpc, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true },
        });
        using var oversizeChannel = GrpcChannel.ForAddress(host.Grpc);
        var invoker = channel.CreateCallInvoker();
        var budget = minutes > 0 ? TimeSpan.FromMinutes(minutes) : (TimeSpan?)null;
        var report = await new GrpcFuzzer(invoker, oversizeChannel.CreateCallInvoker(), seed, workers).RunAsync(calls, budget, done =>
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {done:N0} calls")));
        var problem = await GrpcFuzzer.VerifyCorrectnessAsync(invoker);
        if (problem is not null)
        {
            report.Find("correctness", problem, []);
        }
        else
        {
            report.Count("correctness after the run: MarkRead then Check answers read");
        }

        return report;
    }
}
