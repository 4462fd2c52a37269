using System.Diagnostics;
using System.Globalization;
using Grpc.Core;
using ReadHistory.Api;
using ReadHistory.Api.Internal.V1;
using ReadHistory.Api.V1;
using ReadHistory.Benchmarks.Shared;
using ReadHistory.TestSupport;
using CacheNodeClient = ReadHistory.Api.Internal.V1.CacheNode.CacheNodeClient;
using ReadHistoryClient = ReadHistory.Api.V1.ReadHistory.ReadHistoryClient;

namespace ReadHistory.Benchmarks.Proxy;

/// <summary>
/// <c>ingest-stream [--seconds N] [--rounds N] [--stream-rows N] [--concurrency N] [--innodb]</c>: a private MariaDB
/// (MyRocks unless --innodb, no binlog), one cache node (role cache) and one proxy (1 pool × 1 slot × 1 replica) in this
/// process on loopback. Per round, alternating: one Ingest stream at a time of single-event messages straight to the
/// node with every message invalid (refused by validation, nothing written: the stream's own cost), the same valid
/// to the node (CacheNode.Ingest) and through the proxy (ReadHistory.Ingest), each stream --stream-rows messages long and
/// acknowledged once durable; then MarkRead calls of 100 rows through the proxy at --concurrency. Rows acknowledged
/// per second, the latency of a whole stream (first message to acknowledgement) or of a call, process CPU per row.
/// </summary>
internal static class IngestStreamBench
{
    private const int Users = 5_000;
    private const int RowsPerMarkRead = 100;
    private static long _nextId = 1L << 40;

    public static async Task<int> RunAsync(string[] args)
    {
        var seconds = BenchHost.IntOption(args, "--seconds", 10);
        var rounds = BenchHost.IntOption(args, "--rounds", 3);
        var streamRows = BenchHost.IntOption(args, "--stream-rows", 20_000);
        var concurrency = BenchHost.IntOption(args, "--concurrency", 16);
        var rocksDb = !args.Contains("--innodb");
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine($"ingest-stream: {seconds} s per run, {rounds} alternating rounds, streams of {streamRows} single-event messages, MarkRead of {RowsPerMarkRead} rows at concurrency {concurrency}; {(rocksDb ? "MyRocks" : "InnoDB")}; {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        await using var server = await MariaDbServer.StartAsync(new MariaDbServerOptions { RocksDb = rocksDb, Binlog = false });
        var connectionString = server.ConnectionString();

        var nodeSettings = BenchHost.Settings("cache", connectionString, "ingest", 64L << 20);
        nodeSettings["ReadHistory:Database:Engine"] = rocksDb ? "RocksDb" : "InnoDb";
        await BenchHost.MigrateAsync(nodeSettings);
        await using var node = await BenchHost.StartReadyAsync(nodeSettings);
        var proxySettings = BenchHost.ProxySettings(node, connectionString, "ingest", 64L << 20);
        await using var proxy = await BenchHost.StartReadyAsync(proxySettings);

        using var nodeChannel = ServiceChannels.Create(node.Internal!);
        using var proxyChannel = ServiceChannels.Create(proxy.Grpc);
        var direct = new CacheNodeClient(nodeChannel.CreateCallInvoker());
        var proxied = new ReadHistoryClient(proxyChannel.CreateCallInvoker());

        // Warm both stream paths and the MarkRead path (JIT, connections, the node's prepared statements).
        await DirectStreamAsync(direct, 2_000);
        await ProxyStreamAsync(proxied, 2_000);
        await MarkReadAsync(proxied, concurrency, 2);

        var runs = new Dictionary<string, List<Run>>(StringComparer.Ordinal)
        {
            ["Ingest stream, direct to the node, every message refused by validation (no write: the stream's own cost)"] = [],
            ["Ingest stream, direct to the node"] = [],
            ["Ingest stream, through the proxy"] = [],
            [$"MarkRead × {RowsPerMarkRead} rows, through the proxy, {concurrency} concurrent"] = [],
        };
        var names = runs.Keys.ToList();
        for (var round = 0; round < rounds; round++)
        {
            runs[names[0]].Add(await StreamsAsync(() => DirectStreamAsync(direct, streamRows, valid: false), seconds));
            runs[names[1]].Add(await StreamsAsync(() => DirectStreamAsync(direct, streamRows), seconds));
            runs[names[2]].Add(await StreamsAsync(() => ProxyStreamAsync(proxied, streamRows), seconds));
            runs[names[3]].Add(await MarkReadAsync(proxied, concurrency, seconds));
        }

        Console.WriteLine();
        Console.WriteLine("| path | rows/s acknowledged: runs → median | latency P50 / P99 ms (a whole stream, or one call) | process CPU µs per row | failed |");
        Console.WriteLine("|---|---|---|---:|---:|");
        foreach (var (name, list) in runs)
        {
            Console.WriteLine(string.Create(inv, $"| {name} | {string.Join(", ", list.Select(r => r.RowsPerSecond.ToString("N0", inv)))} → {Median(list, r => r.RowsPerSecond):N0} | {Median(list, r => r.P50):F1} / {Median(list, r => r.P99):F1} | {Median(list, r => r.CpuMicrosPerRow):F2} | {list.Sum(r => r.Failed)} |"));
        }

        return 0;
    }

    // Streams one after the other for the run's time: each one's rows count once it is acknowledged.
    private static async Task<Run> StreamsAsync(Func<Task<long>> stream, int seconds)
    {
        var process = Process.GetCurrentProcess();
        process.Refresh();
        var cpu = process.TotalProcessorTime;
        var started = Stopwatch.GetTimestamp();
        var end = started + (seconds * Stopwatch.Frequency);
        var latencies = new List<double>();
        long rows = 0, failed = 0;
        while (Stopwatch.GetTimestamp() < end)
        {
            var began = Stopwatch.GetTimestamp();
            try
            {
                rows += await stream();
                latencies.Add(Stopwatch.GetElapsedTime(began).TotalMilliseconds);
            }
            catch (RpcException e)
            {
                failed++;
                Console.WriteLine($"  a stream failed: {e.StatusCode} {e.Status.Detail}");
            }
        }

        return Finish(process, cpu, started, rows, failed, latencies);
    }

    // valid: false sends content id 0, which validation refuses per message (the stream goes on, nothing is written):
    // what the stream costs without the write path. Its rows count as handled when every one was refused.
    private static async Task<long> DirectStreamAsync(CacheNodeClient client, int messages, bool valid = true)
    {
        using var call = client.Ingest(BenchHost.Within(120_000));
        for (var n = 0; n < messages; n++)
        {
            var message = Event(n);
            if (!valid)
            {
                message.Items[0].ContentId = 0;
            }

            await call.RequestStream.WriteAsync(new CacheIngestRequest { Request = message });
        }

        await call.RequestStream.CompleteAsync();
        var response = await call.ResponseAsync;
        return valid ? Acknowledged(response, messages)
            : (long)response.Rejected == messages ? messages : throw new RpcException(new Status(StatusCode.Internal, $"{response.Rejected} of {messages} invalid messages rejected"));
    }

    private static async Task<long> ProxyStreamAsync(ReadHistoryClient client, int messages)
    {
        using var call = client.Ingest(BenchHost.Within(120_000));
        for (var n = 0; n < messages; n++)
        {
            await call.RequestStream.WriteAsync(new IngestRequest { Batch = Event(n) });
        }

        await call.RequestStream.CompleteAsync();
        return Acknowledged(await call.ResponseAsync, messages);
    }

    private static long Acknowledged(IngestResponse response, int sent) =>
        (long)response.Accepted == sent ? sent : throw new RpcException(new Status(StatusCode.DataLoss, $"{response.Accepted} of {sent} rows acknowledged"));

    // One event: a fresh id for one of the users, in turn.
    private static MarkReadRequest Event(int n)
    {
        var request = new MarkReadRequest { UserId = 1 + (ulong)(n % Users) };
        request.Items.Add(new ReadItem { ContentId = (ulong)Interlocked.Increment(ref _nextId) });
        return request;
    }

    private static async Task<Run> MarkReadAsync(ReadHistoryClient client, int concurrency, int seconds)
    {
        var process = Process.GetCurrentProcess();
        process.Refresh();
        var cpu = process.TotalProcessorTime;
        var started = Stopwatch.GetTimestamp();
        var end = started + (seconds * Stopwatch.Frequency);
        var latencies = new List<double>();
        long rows = 0, failed = 0;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(worker => Task.Run(async () =>
        {
            var mine = new List<double>();
            var user = (ulong)worker;
            while (Stopwatch.GetTimestamp() < end)
            {
                user = 1 + ((user + (ulong)concurrency) % Users);
                var request = new MarkReadRequest { UserId = user };
                for (var i = 0; i < RowsPerMarkRead; i++)
                {
                    request.Items.Add(new ReadItem { ContentId = (ulong)Interlocked.Increment(ref _nextId) });
                }

                var began = Stopwatch.GetTimestamp();
                try
                {
                    await client.MarkReadAsync(request, BenchHost.Within(5_000));
                    mine.Add(Stopwatch.GetElapsedTime(began).TotalMilliseconds);
                    Interlocked.Add(ref rows, RowsPerMarkRead);
                }
                catch (RpcException)
                {
                    Interlocked.Increment(ref failed);
                }
            }

            lock (latencies)
            {
                latencies.AddRange(mine);
            }
        })));
        return Finish(process, cpu, started, rows, failed, latencies);
    }

    private static Run Finish(Process process, TimeSpan cpu, long started, long rows, long failed, List<double> latencies)
    {
        var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
        process.Refresh();
        var cpuMicros = (process.TotalProcessorTime - cpu).TotalMicroseconds;
        latencies.Sort();
        double At(double q) => latencies.Count == 0 ? double.NaN : latencies[(int)Math.Min(latencies.Count - 1, q * latencies.Count)];
        return new Run(rows / elapsed, At(0.5), At(0.99), rows == 0 ? double.NaN : cpuMicros / rows, failed);
    }

    private static double Median<T>(List<T> runs, Func<T, double> value)
    {
        var sorted = runs.Select(value).Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private sealed record Run(double RowsPerSecond, double P50, double P99, double CpuMicrosPerRow, long Failed);
}
