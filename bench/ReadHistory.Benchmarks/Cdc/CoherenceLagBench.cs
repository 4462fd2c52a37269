using ReadHistory.Api;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using ReadHistory.Api.Internal.V1;
using ReadHistory.Api.V1;
using ReadHistory.Benchmarks.Shared;
using Grpc.Core;
using Grpc.Net.Client;
using ReadHistory.Server.Cache;
using ReadHistory.Server.Hosting;
using ReadHistory.TestSupport;
using CacheNodeClient = ReadHistory.Api.Internal.V1.CacheNode.CacheNodeClient;

namespace ReadHistory.Benchmarks.Cdc;

/// <summary>
/// <c>coherence-lag [--rate 40000] [--seconds 30] [--warmup 5] [--rows-per-call 40] [--markers-per-second 100]</c>:
/// a private MariaDB (MyRocks, ROW binlog, durable defaults), a private Redis, and in this process a CDC host and two
/// cache replicas (A, B) of one slot. Open-loop MarkRead through A at the target rate (random users, so B ignores
/// most changes as it would for users it does not hold), plus marker writes through A for users B holds. A prober
/// polls B's filters in-process every ~1 ms and times each marker from the moment A acknowledged it (committed) —
/// and from the moment it was sent, which brackets the commit — to the moment B's filter has it. The nodes'
/// own readhistory_coherence_lag_seconds histogram starts from the binlog's commit timestamp, which has one-second
/// resolution; the publisher refines it (read time clamped into that second), and the bench prints B's histogram
/// next to the end-to-end marker figures, which do not depend on it.
/// </summary>
internal static class CoherenceLagBench
{
    /// <summary>Users replica B holds, which the marker writes go to.</summary>
    internal const int MarkerUsers = 64;

    /// <summary>The first marker user.</summary>
    internal const ulong MarkerUserBase = 900_000_000;

    /// <summary>Load calls in flight at most; a call due beyond it starts late (and is counted).</summary>
    internal const int MaxInFlight = 512;

    public static async Task<int> RunAsync(string[] args)
    {
        var rate = BenchHost.IntOption(args, "--rate", 40_000);
        var seconds = BenchHost.IntOption(args, "--seconds", 30);
        var warmup = BenchHost.IntOption(args, "--warmup", 5);
        var rowsPerCall = BenchHost.IntOption(args, "--rows-per-call", 40);
        var markersPerSecond = BenchHost.IntOption(args, "--markers-per-second", 100);
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(inv, $"coherence-lag: {rate:N0} rows/s offered through replica A in MarkRead calls of {rowsPerCall} rows, {markersPerSecond} markers/s, {warmup} s warm-up + {seconds} s measured; {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC"));

        await using var mariaDb = await MariaDbServer.StartAsync(new MariaDbServerOptions
        {
            ExtraArguments = ["--innodb-buffer-pool-size=256M", "--rocksdb-block-cache-size=512M"],
        });
        await using var redis = await RedisServer.StartAsync();
        var cdcSettings = Settings("cdc", mariaDb, redis);
        await BenchHost.MigrateAsync(cdcSettings);
        await using var cdc = await BenchHost.StartReadyAsync(cdcSettings);
        await using var a = await BenchHost.StartReadyAsync(Settings("cache", mariaDb, redis));
        await using var b = await BenchHost.StartReadyAsync(Settings("cache", mariaDb, redis));
        var cacheB = b.App.Services.GetRequiredService<CacheNodeHost>().Current ?? throw new InvalidOperationException("replica B has no cache");
        using var channel = ServiceChannels.Create(a.Grpc);
        var calls = channel.CreateCallInvoker();
        using var channelB = ServiceChannels.Create(b.Grpc);
        await HoldMarkerUsersAsync(channelB.CreateCallInvoker());

        var probe = new MarkerProbe(cacheB);
        var prober = new Thread(probe.Run) { IsBackground = true, Name = "marker-probe" };
        prober.Start();
        var load = new OpenLoopIngest(calls, rate, rowsPerCall, markersPerSecond, probe);

        var process = Process.GetCurrentProcess();
        using var http = new HttpClient();
        await load.RunAsync(TimeSpan.FromSeconds(warmup));
        probe.Reset();
        load.ResetCounters();
        var bucketsBefore = await LagBucketsAsync(http, b.Http);
        process.Refresh();
        var cpuBefore = process.TotalProcessorTime;
        var measured = await load.RunAsync(TimeSpan.FromSeconds(seconds));
        process.Refresh();
        var cpu = (process.TotalProcessorTime - cpuBefore).TotalSeconds;
        var bucketsAfter = await LagBucketsAsync(http, b.Http);
        await probe.DrainAsync(TimeSpan.FromSeconds(30));
        probe.Stop();

        var fromAck = probe.FromAck();
        var fromSend = probe.FromSend();
        Console.WriteLine(string.Create(inv, $"ingest: {load.RowsAcknowledged / measured:N0} rows/s acknowledged of {rate:N0} offered ({load.CallsAcknowledged / measured:N0} calls/s, {load.Failed} failed, {load.Late} calls started late at the in-flight cap of {MaxInFlight}); ack P50 {load.AckMs(0.5):F1} ms P99 {load.AckMs(0.99):F1} ms; this process (3 hosts + load) used {cpu / measured:F2} cores"));
        Console.WriteLine(string.Create(inv, $"markers: {fromAck.Count} seen on B, {probe.Unseen} not seen within 30 s, {probe.NotInMemory} probes found the marker user not in B's memory"));
        Console.WriteLine();
        Console.WriteLine("| lag to replica B's filter | samples | P50 ms | P90 ms | P99 ms | max ms |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        Print("from A's acknowledgement (after commit)", fromAck);
        Print("from the write being sent (before commit)", fromSend);
        var batches = bucketsAfter.Values.DefaultIfEmpty(0).Max() - bucketsBefore.Values.DefaultIfEmpty(0).Max();
        Console.WriteLine(string.Create(inv, $"| B's own readhistory_coherence_lag_seconds (per batch, from the publisher's commit-time estimate; bucket upper bounds) | {batches:F0} | ≤ {BucketQuantile(bucketsBefore, bucketsAfter, 0.5) * 1000:F1} | ≤ {BucketQuantile(bucketsBefore, bucketsAfter, 0.9) * 1000:F1} | ≤ {BucketQuantile(bucketsBefore, bucketsAfter, 0.99) * 1000:F1} | – |"));
        return 0;
    }

    /// <summary>The cumulative bucket counts (le → count) of readhistory_coherence_lag_seconds in a host's /metrics.</summary>
    private static async Task<SortedDictionary<double, double>> LagBucketsAsync(HttpClient http, Uri host)
    {
        const string Prefix = "readhistory_coherence_lag_seconds_bucket{";
        var buckets = new SortedDictionary<double, double>();
        foreach (var line in (await http.GetStringAsync(new Uri(host, "/metrics"))).Split('\n'))
        {
            if (!line.StartsWith(Prefix, StringComparison.Ordinal))
            {
                continue;
            }

            var le = line.IndexOf("le=\"", StringComparison.Ordinal) + 4;
            var bound = line[le..line.IndexOf('"', le)];
            var key = bound == "+Inf" ? double.PositiveInfinity : double.Parse(bound, CultureInfo.InvariantCulture);
            buckets[key] = buckets.GetValueOrDefault(key) + double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
        }

        return buckets;
    }

    /// <summary>The upper bound of the bucket holding quantile <paramref name="q"/> of the observations between two scrapes.</summary>
    private static double BucketQuantile(SortedDictionary<double, double> before, SortedDictionary<double, double> after, double q)
    {
        var total = after.GetValueOrDefault(double.PositiveInfinity) - before.GetValueOrDefault(double.PositiveInfinity);
        foreach (var (bound, count) in after)
        {
            if (total > 0 && count - before.GetValueOrDefault(bound) >= q * total)
            {
                return bound;
            }
        }

        return double.NaN;
    }

    private static Dictionary<string, string?> Settings(string roles, MariaDbServer mariaDb, RedisServer redis)
    {
        var settings = BenchHost.Settings(roles, mariaDb.ConnectionString(), "lag", 256L << 20);
        settings["ReadHistory:Redis:Configuration"] = redis.Endpoint;
        settings["ReadHistory:Redis:KeyPrefix"] = "lag";
        settings["ReadHistory:NodeName"] = "lag-node";
        return settings;
    }

    private static async Task HoldMarkerUsersAsync(CallInvoker b)
    {
        for (var u = 0; u < MarkerUsers; u++)
        {
            var check = new CacheCheckRequest { Request = new CheckRequest { UserId = MarkerUserBase + (ulong)u, ContentIds = { 1 } } };
            for (var attempt = 0; ; attempt++)
            {
                var answer = await new CacheNodeClient(b).CheckAsync(check, BenchHost.Within(5000)).ResponseAsync;
                if (answer.Source == AnswerSource.Memory)
                {
                    break;
                }

                if (attempt > 400)
                {
                    throw new TimeoutException("replica B never held marker user " + check.Request.UserId.ToString(CultureInfo.InvariantCulture));
                }

                await Task.Delay(10);
            }
        }
    }

    private static void Print(string name, List<double> samples)
    {
        samples.Sort();
        double Q(double q) => samples.Count == 0 ? double.NaN : samples[(int)Math.Min(samples.Count - 1, q * samples.Count)];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {samples.Count} | {Q(0.5):F1} | {Q(0.9):F1} | {Q(0.99):F1} | {(samples.Count == 0 ? double.NaN : samples[^1]):F1} |"));
    }

    /// <summary>A marker write: two fresh ids for a user replica B holds, with when it was sent and acknowledged.</summary>
    internal sealed class Marker(ulong userId, ulong first, long sentTicks)
    {
        public ulong UserId { get; } = userId;

        public ulong[] Ids { get; } = [first, first + 1];

        public long SentTicks { get; } = sentTicks;

        public long AckTicks { get; set; }
    }

    /// <summary>Polls replica B's filters in-process for the pending markers; records each marker's lag once both its ids are set.</summary>
    internal sealed class MarkerProbe(ReadThroughCache cacheB)
    {
        private readonly List<Marker> _pending = [];
        private readonly List<double> _fromAck = [];
        private readonly List<double> _fromSend = [];
        private volatile bool _stopped;
        private long _notInMemory;

        public long NotInMemory => Interlocked.Read(ref _notInMemory);

        public int Unseen
        {
            get
            {
                lock (_pending)
                {
                    return _pending.Count;
                }
            }
        }

        public void Add(Marker marker)
        {
            lock (_pending)
            {
                _pending.Add(marker);
            }
        }

        public void Reset()
        {
            lock (_pending)
            {
                _fromAck.Clear();
                _fromSend.Clear();
                Interlocked.Exchange(ref _notInMemory, 0);
            }
        }

        public List<double> FromAck()
        {
            lock (_pending)
            {
                return [.. _fromAck];
            }
        }

        public List<double> FromSend()
        {
            lock (_pending)
            {
                return [.. _fromSend];
            }
        }

        public async Task DrainAsync(TimeSpan within)
        {
            var clock = Stopwatch.StartNew();
            while (Unseen > 0 && clock.Elapsed < within)
            {
                await Task.Delay(10);
            }
        }

        public void Stop() => _stopped = true;

        public void Run()
        {
            var bitmap = new byte[1];
            var done = new List<Marker>();
            while (!_stopped)
            {
                Marker[] pending;
                lock (_pending)
                {
                    pending = [.. _pending];
                }

                foreach (var marker in pending)
                {
                    if (Seen(marker, bitmap))
                    {
                        done.Add(marker);
                    }
                }

                if (done.Count > 0)
                {
                    var now = Stopwatch.GetTimestamp();
                    lock (_pending)
                    {
                        foreach (var marker in done)
                        {
                            _pending.Remove(marker);
                            // A marker can show up on B before A's answer reaches the client; it then counts as 0.
                            _fromAck.Add(marker.AckTicks == 0 ? 0 : Math.Max(0, Stopwatch.GetElapsedTime(marker.AckTicks, now).TotalMilliseconds));
                            _fromSend.Add(Stopwatch.GetElapsedTime(marker.SentTicks, now).TotalMilliseconds);
                        }
                    }

                    done.Clear();
                }

                Thread.Sleep(1);
            }
        }

        private bool Seen(Marker marker, byte[] bitmap)
        {
            foreach (var id in marker.Ids)
            {
                bitmap[0] = 0;
                var task = cacheB.CheckAsync(marker.UserId, 0, new[] { id }, bitmap, passthrough: false, CancellationToken.None);
                if (!task.IsCompleted)
                {
                    // Not held: answered by a point query (and a rebuild started). The marker users are held; count it.
                    Interlocked.Increment(ref _notInMemory);
                    task.AsTask().GetAwaiter().GetResult();
                    return false;
                }

                var result = task.Result;
                if (result.Source != CheckSource.Memory)
                {
                    Interlocked.Increment(ref _notInMemory);
                    return false;
                }

                if ((bitmap[0] & 1) == 0)
                {
                    return false;
                }
            }

            return true;
        }
    }
}
