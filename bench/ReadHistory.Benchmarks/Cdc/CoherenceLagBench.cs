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
/// <c>coherence-lag [--rate 40000] [--seconds 30] [--warmup 5] [--rows-per-call 40] [--markers-per-second 100] [--peer-fan-out on|off] [--redis single|cluster]</c>:
/// a private MariaDB (MyRocks, ROW binlog, durable defaults), a private Redis (or Redis Cluster, 3 + 3), in this process a CDC host and cache
/// replica B, and replica A of the same slot in a child process (so that its CPU is its own). With
/// <c>--peer-fan-out on</c> (the default, as shipped) A sends its writes to B at once and the markers time that path;
/// with <c>off</c> they time the CDC path (binlog → CDC → stream → B). A's CPU per written row and the write
/// acknowledgement P99 on and off are the fan-out's cost. Open-loop MarkRead through A at the target rate (random users, so B ignores
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
        var fanOut = FanOutOption(args);
        var inv = CultureInfo.InvariantCulture;
        if (args.Contains(ServeNode))
        {
            return await ServeNodeAsync(args);
        }

        await using var redis = await BenchRedis.StartAsync(args);
        Console.WriteLine(string.Create(inv, $"coherence-lag: {rate:N0} rows/s offered through replica A in MarkRead calls of {rowsPerCall} rows, {markersPerSecond} markers/s, {warmup} s warm-up + {seconds} s measured, peer fan-out {(fanOut ? "on" : "off")}, Redis {redis.Name}; {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC"));

        await using var mariaDb = await MariaDbServer.StartAsync(new MariaDbServerOptions
        {
            ExtraArguments = ["--innodb-buffer-pool-size=256M", "--rocksdb-block-cache-size=512M"],
        });
        var cdcSettings = Settings("cdc", mariaDb, redis);
        await BenchHost.MigrateAsync(cdcSettings);
        await using var cdc = await BenchHost.StartReadyAsync(cdcSettings);
        int portA = FreePort.Next(), portB = FreePort.Next();
        using var a = await NodeProcess.StartAsync(Replica(Settings("cache", mariaDb, redis), portA, portB, replica: 0, fanOut));
        await using var b = await BenchHost.StartReadyAsync(Replica(Settings("cache", mariaDb, redis), portA, portB, replica: 1, fanOut));
        var cacheB = b.App.Services.GetRequiredService<CacheNodeHost>().Current ?? throw new InvalidOperationException("replica B has no cache");
        using var channel = ServiceChannels.Create(a.Grpc);
        var calls = channel.CreateCallInvoker();
        using var channelB = ServiceChannels.Create(b.Internal!);
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
        var cpuBeforeA = a.CpuTime;
        var measured = await load.RunAsync(TimeSpan.FromSeconds(seconds));
        process.Refresh();
        var cpu = (process.TotalProcessorTime - cpuBefore).TotalSeconds;
        var cpuA = (a.CpuTime - cpuBeforeA).TotalSeconds;
        var bucketsAfter = await LagBucketsAsync(http, b.Http);
        await probe.DrainAsync(TimeSpan.FromSeconds(30));
        probe.Stop();

        var fromAck = probe.FromAck();
        var fromSend = probe.FromSend();
        Console.WriteLine(string.Create(inv, $"ingest: {load.RowsAcknowledged / measured:N0} rows/s acknowledged of {rate:N0} offered ({load.CallsAcknowledged / measured:N0} calls/s, {load.Failed} failed, {load.Late} calls started late at the in-flight cap of {MaxInFlight}); ack P50 {load.AckMs(0.5):F1} ms P99 {load.AckMs(0.99):F1} ms; this process (CDC, B and the load) used {cpu / measured:F2} cores"));
        Console.WriteLine(string.Create(inv, $"node A (peer fan-out {(fanOut ? "on" : "off")}): {cpuA / measured:F2} cores, {(load.RowsAcknowledged == 0 ? double.NaN : cpuA * 1e6 / load.RowsAcknowledged):F2} µs CPU per written row; write acknowledgement P99 {load.AckMs(0.99):F1} ms"));
        var gaps = await CounterAsync(http, b.Http, "readhistory_coherence_gaps_total");
        Console.WriteLine(string.Create(inv, $"markers: {fromAck.Count} seen on B, {probe.Unseen} not seen within 30 s ({probe.UnseenAcknowledged} of them acknowledged by A, the rest failed or unanswered), {probe.NotInMemory} probes found the marker user not in B's memory; B's stream gaps {gaps:F0}"));
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

    /// <summary>The sum of a counter's series in a host's /metrics (0 when absent).</summary>
    private static async Task<double> CounterAsync(HttpClient http, Uri host, string name)
    {
        var total = 0.0;
        foreach (var line in (await http.GetStringAsync(new Uri(host, "/metrics"))).Split('\n'))
        {
            if (line.StartsWith(name, StringComparison.Ordinal) && (line.Length == name.Length || line[name.Length] is ' ' or '{'))
            {
                total += double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            }
        }

        return total;
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

    /// <summary>The hidden argument that makes this program serve replica A (see <see cref="NodeProcess"/>).</summary>
    internal const string ServeNode = "--serve-node";

    /// <summary>--peer-fan-out on|off (default on, as shipped).</summary>
    private static bool FanOutOption(string[] args)
    {
        var index = Array.IndexOf(args, "--peer-fan-out");
        var value = index >= 0 && index + 1 < args.Length ? args[index + 1] : "on";
        return value switch
        {
            "on" => true,
            "off" => false,
            _ => throw new ArgumentException("--peer-fan-out takes on or off, not " + value),
        };
    }

    /// <summary>Replica <paramref name="replica"/> of slot 0 (A on <paramref name="portA"/>, B on <paramref name="portB"/>), each the other's peer.</summary>
    private static Dictionary<string, string?> Replica(Dictionary<string, string?> settings, int portA, int portB, int replica, bool fanOut)
    {
        var inv = CultureInfo.InvariantCulture;
        settings["ReadHistory:InternalGrpcListen"] = "127.0.0.1:" + (replica == 0 ? portA : portB).ToString(inv);
        settings["ReadHistory:Topology:Pools:0:Name"] = "default";
        settings["ReadHistory:Topology:Pools:0:Slots:0:Replicas:0"] = "http://127.0.0.1:" + portA.ToString(inv);
        settings["ReadHistory:Topology:Pools:0:Slots:0:Replicas:1"] = "http://127.0.0.1:" + portB.ToString(inv);
        settings["ReadHistory:Cache:Slot"] = "0";
        settings["ReadHistory:Cache:Replica"] = replica.ToString(inv);
        settings["ReadHistory:Cache:PeerFanOut"] = fanOut ? "true" : "false";

        // B must not warm-start from A (nor A from B): both start cold, as before the fan-out.
        settings["ReadHistory:Cache:WarmStartTimeout"] = "00:00:00";
        return settings;
    }

    /// <summary>The child's side: a host of the settings given as key=value arguments after <see cref="ServeNode"/>, until standard input closes.</summary>
    private static async Task<int> ServeNodeAsync(string[] args)
    {
        var settings = new Dictionary<string, string?>();
        foreach (var arg in args.SkipWhile(static a => a != ServeNode).Skip(1))
        {
            var equals = arg.IndexOf('=', StringComparison.Ordinal);
            settings[arg[..equals]] = arg[(equals + 1)..];
        }

        await using var host = await BenchHost.StartReadyAsync(settings);
        Console.WriteLine("listening " + host.Internal);
        await Console.In.ReadToEndAsync();
        return 0;
    }

    private static Dictionary<string, string?> Settings(string roles, MariaDbServer mariaDb, BenchRedis redis)
    {
        var settings = BenchHost.Settings(roles, mariaDb.ConnectionString(), "lag", 256L << 20);
        settings["ReadHistory:Redis:Configuration"] = redis.Configuration;
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

        /// <summary>Markers not seen that A acknowledged: a committed write B's filter did not get (unlike a failed or unanswered one).</summary>
        public int UnseenAcknowledged
        {
            get
            {
                lock (_pending)
                {
                    return _pending.Count(static m => m.AckTicks != 0);
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
