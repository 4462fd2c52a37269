using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using ReadHistory.Benchmarks.Shared;
using ReadHistory.Server.Storage;
using ReadHistory.TestSupport;

namespace ReadHistory.Benchmarks.Storage;

/// <summary>
/// Console benchmarks of the storage layer on a private MariaDB (see bench/RESULTS.md, "Storage"):
/// <c>storage-ingest --seconds 60 --engine rocksdb|innodb-compressed|innodb</c> and
/// <c>storage-size --rows 20000000 --seconds 10 --engine …</c> (load, bytes per row on disk, point-query P50/P99 idle
/// and under scans, prepared statements and text IN lists alternately).
/// </summary>
internal static class StorageBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var mode = args[0];
        var seconds = IntArg(args, "--seconds", 60);
        var rows = IntArg(args, "--rows", 2_000_000);
        var pointIds = IntArg(args, "--point-ids", 400);
        var pointChunk = IntArg(args, "--point-chunk", ShippedDefaults.Database().PointQueryChunk);
        var engine = StringArg(args, "--engine", "rocksdb") switch
        {
            "rocksdb" => StorageEngine.RocksDb,
            "innodb-compressed" => StorageEngine.InnoDbCompressed,
            "innodb" => StorageEngine.InnoDb,
            var other => throw new ArgumentException($"unknown engine {other}"),
        };
        await using var server = await MariaDbServer.StartAsync(new MariaDbServerOptions
        {
            ExtraArguments = ["--innodb-buffer-pool-size=1G", "--rocksdb-block-cache-size=512M", "--innodb-log-file-size=512M"],
        });
        var options = ShippedDefaults.Database(o =>
        {
            o.ConnectionString = server.ConnectionString();
            o.DatabasePrefix = "readhistory";
            o.Databases = 2;
            o.TablesPerDatabase = 2;
            o.Engine = engine;
            o.GroupCommitMaxDelay = TimeSpan.FromMilliseconds(2);
            o.GroupCommitMaxQueuedRows = 400_000;
            o.PointQueryChunk = pointChunk;
        });
        var migration = await SchemaMigrator.MigrateAsync(options, NullLogger.Instance, CancellationToken.None);
        Console.WriteLine($"server {migration.ServerVersion}, engine {migration.Engine}, 2 × 2 tables");
        await using var database = await HistoryDatabase.OpenAsync(options, NullLogger.Instance, CancellationToken.None);
        return mode switch
        {
            "storage-ingest" => await IngestAsync(database, seconds),
            "storage-size" => await SizeAndPointAsync(server, database, rows, seconds, pointIds),
            _ => throw new ArgumentException($"unknown mode {mode}"),
        };
    }

    // Many producers (like ingest streams) each writing 20-item MarkReads for random users, back to back.
    private static async Task<int> IngestAsync(HistoryDatabase database, int seconds)
    {
        await using var writer = new GroupCommitWriter(database.Options, database.Map, new MySqlShardFlusher(database), TimeProvider.System, NullLogger.Instance);
        const int Producers = 256;
        const int ItemsPerWrite = 20;
        var latencies = new List<double>[Producers];
        long rows = 0;
        long refused = 0;
        var clock = Stopwatch.StartNew();
        var warmup = TimeSpan.FromSeconds(5);
        var end = warmup + TimeSpan.FromSeconds(seconds);
        long rowsAtWarmup = 0;
        var tasks = Enumerable.Range(0, Producers).Select(p => Task.Run(async () =>
        {
            var random = new Random(p);
            var mine = latencies[p] = new List<double>(100_000);
            var items = new StoredRead[ItemsPerWrite];
            while (clock.Elapsed < end)
            {
                var user = (ulong)random.NextInt64(1, 10_000_000);
                for (var i = 0; i < items.Length; i++)
                {
                    items[i] = new StoredRead((ulong)random.NextInt64(1, 1L << 40), 0);
                }

                var started = clock.Elapsed;
                try
                {
                    await writer.WriteAsync(user, 1, items);
                }
                catch (StorageOverloadedException e)
                {
                    Interlocked.Increment(ref refused);
                    await Task.Delay(e.RetryAfter);
                    continue;
                }

                if (started > warmup)
                {
                    mine.Add((clock.Elapsed - started).TotalMilliseconds);
                }

                Interlocked.Add(ref rows, ItemsPerWrite);
            }
        })).ToArray();
        await Task.Delay(warmup);
        rowsAtWarmup = Interlocked.Read(ref rows);
        await Task.WhenAll(tasks);
        var measured = clock.Elapsed - warmup;
        var all = latencies.SelectMany(l => l).Order().ToArray();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ingest {database.Dialect.Engine}: {(rows - rowsAtWarmup) / measured.TotalSeconds:F0} rows/s over {measured.TotalSeconds:F0} s, " +
            $"ack P50 {Percentile(all, 0.50):F1} ms, P99 {Percentile(all, 0.99):F1} ms, P999 {Percentile(all, 0.999):F1} ms, refused {refused}"));
        return 0;
    }

    // Loads a heavy-tailed mix (users of 1 .. 300,000 rows), measures bytes per row on disk, then point-query P99 idle and under scans.
    private static async Task<int> SizeAndPointAsync(MariaDbServer server, HistoryDatabase database, int targetRows, int seconds, int pointIds)
    {
        var random = new Random(42);
        var users = new List<(ulong User, int Rows)>();
        long total = 0;
        var nextUser = 1UL;
        while (total < targetRows)
        {
            // Pareto(alpha = 1.2, scale 8) shifted to start at 1 row, capped at 300,000 rows per user.
            var n = (int)Math.Min(300_000, Math.Floor(8.0 / Math.Pow(1 - random.NextDouble(), 1 / 1.2)) - 7);
            n = (int)Math.Min(n, targetRows - total);
            users.Add((nextUser, n));
            total += n;
            nextUser += (ulong)random.Next(1, 1000);
        }

        var load = Stopwatch.StartNew();
        // The bulk load only: commits are not flushed to disk one by one (durability is not what is measured here,
        // size is); the server's durable defaults are restored before the point queries.
        await SetGlobalsAsync(database, durable: false);
        await LoadAsync(database, users, random);
        await SetGlobalsAsync(database, durable: true);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"loaded {total} rows of {users.Count} users (smallest {users.Min(u => u.Rows)}, largest {users.Max(u => u.Rows)}, {users.Count(u => u.Rows >= 100_000)} of 100 K+) in {load.Elapsed.TotalSeconds:F0} s ({total / load.Elapsed.TotalSeconds:F0} rows/s)"));

        await using (var connection = await database.Connections.OpenAsync(StoragePool.Ingest, CancellationToken.None))
        {
            var flush = database.Dialect.Engine == StorageEngine.RocksDb
                ? new[] { "SET GLOBAL rocksdb_force_flush_memtable_now = 1", "SET GLOBAL rocksdb_compact_cf = 'rh_reads'" }
                : ["FLUSH TABLES", "SET GLOBAL innodb_max_dirty_pages_pct = 0"];
            foreach (var sql in flush)
            {
                await using var command = connection.CreateCommand();
                command.CommandText = sql;
                command.CommandTimeout = 1800;
                await command.ExecuteNonQueryAsync();
            }
        }

        await Task.Delay(TimeSpan.FromSeconds(database.Dialect.Engine == StorageEngine.RocksDb ? 5 : 30));
        var bytes = database.Dialect.Engine == StorageEngine.RocksDb
            ? Directory.EnumerateFiles(Path.Combine(server.DataDirectory, "#rocksdb"), "*.sst").Sum(f => new FileInfo(f).Length)
            : Directory.EnumerateFiles(server.DataDirectory, "reads_*.ibd", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        var allocated = await ChildProcess.RunAsync("du", ["-sb", "--apparent-size", database.Dialect.Engine == StorageEngine.RocksDb ? Path.Combine(server.DataDirectory, "#rocksdb") : server.DataDirectory]);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"size {database.Dialect.Engine}: {bytes} bytes of table files for {total} rows = {(double)bytes / total:F2} bytes/row (du of the folder: {allocated.Split('\t')[0]})"));

        var prepared = new HistoryStore(database, NullLogger.Instance);
        var text = new HistoryStore(database, NullLogger.Instance) { PreparedPointQueries = false };
        var small = users.Where(u => u.Rows is > 50 and < 5000).Select(u => u.User).ToArray();
        var big = users.OrderByDescending(u => u.Rows).Take(4).Select(u => u.User).ToArray();
        var period = TimeSpan.FromSeconds(seconds);
        await PointQueriesAsync(prepared, pointIds, small, TimeSpan.FromSeconds(3), random); // warm both paths and the pool
        await PointQueriesAsync(text, pointIds, small, TimeSpan.FromSeconds(3), random);
        var idleText = await PointQueriesAsync(text, pointIds, small, period, random);
        var idle = await PointQueriesAsync(prepared, pointIds, small, period, random);
        using var stopScans = new CancellationTokenSource();
        long scanned = 0;
        var scans = Enumerable.Range(0, 2).Select(s => Task.Run(async () =>
        {
            while (!stopScans.IsCancellationRequested)
            {
                await foreach (var _ in prepared.ScanAsync(big[s % big.Length], CancellationToken.None))
                {
                    Interlocked.Increment(ref scanned);
                }
            }
        })).ToArray();
        var scanClock = Stopwatch.StartNew();
        var busy = await PointQueriesAsync(prepared, pointIds, small, period, random);
        var busyText = await PointQueriesAsync(text, pointIds, small, period, random);
        await stopScans.CancelAsync();
        await Task.WhenAll(scans);
        var scanRate = scanned / scanClock.Elapsed.TotalSeconds;
        foreach (var (name, quiet, loaded) in new[] { ("prepared", idle, busy), ("text", idleText, busyText) })
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"point query {name} ({pointIds} ids, 4 clients) {database.Dialect.Engine}: idle P50 {quiet.P50:F2} ms P99 {quiet.P99:F2} ms ({quiet.Qps:F0}/s); " +
                $"under 2 scan loops ({scanRate:F0} scanned rows/s) P50 {loaded.P50:F2} ms P99 {loaded.P99:F2} ms ({loaded.Qps:F0}/s), P99 ratio {loaded.P99 / quiet.P99:F2}"));
        }

        return 0;
    }

    private static async Task<(double P50, double P99, double Qps)> PointQueriesAsync(HistoryStore store, int idCount, ulong[] users, TimeSpan duration, Random seed)
    {
        var clock = Stopwatch.StartNew();
        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(c => Task.Run(async () =>
        {
            var random = new Random(seed.Next());
            var latencies = new List<double>();
            var ids = new ulong[idCount];
            var found = new bool[idCount];
            while (clock.Elapsed < duration)
            {
                for (var i = 0; i < ids.Length; i++)
                {
                    ids[i] = (ulong)random.NextInt64(1, 1L << 36);
                }

                var started = clock.Elapsed;
                await store.ContainsAsync(users[random.Next(users.Length)], 1, ids, found);
                latencies.Add((clock.Elapsed - started).TotalMilliseconds);
            }

            return latencies;
        })));
        var all = results.SelectMany(l => l).Order().ToArray();
        return (Percentile(all, 0.5), Percentile(all, 0.99), all.Length / clock.Elapsed.TotalSeconds);
    }

    private static async Task SetGlobalsAsync(HistoryDatabase database, bool durable)
    {
        var variable = database.Dialect.Engine == StorageEngine.RocksDb ? "rocksdb_flush_log_at_trx_commit" : "innodb_flush_log_at_trx_commit";
        await using var connection = await database.Connections.OpenAsync(StoragePool.Ingest, CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SET GLOBAL {variable} = {(durable ? 1 : 2)}";
        await command.ExecuteNonQueryAsync();
    }

    // Bulk load straight through multi-row INSERTs on 4 connections (not the group-commit writer: this measures size).
    private static async Task LoadAsync(HistoryDatabase database, List<(ulong User, int Rows)> users, Random random)
    {
        var batches = new System.Collections.Concurrent.BlockingCollection<(int Shard, HistoryRow[] Rows)>(16);
        var consumers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            var flusher = new MySqlShardFlusher(database);
            foreach (var (shard, rows) in batches.GetConsumingEnumerable())
            {
                await flusher.FlushAsync(shard, rows, CancellationToken.None);
            }
        })).ToArray();
        var baseTime = 1_750_000_000u;
        foreach (var (user, count) in users)
        {
            var ids = new HashSet<ulong>(count);
            while (ids.Count < count)
            {
                ids.Add((ulong)random.NextInt64(1, 1L << 36));
            }

            var rows = ids.Select(id => new HistoryRow(user, (ushort)(random.Next(10) < 8 ? 1 : random.Next(2, 4)), id, baseTime + (uint)random.Next(90 * 86_400))).ToArray();
            Array.Sort(rows);
            var shard = database.Map.ShardOf(user);
            for (var start = 0; start < rows.Length; start += MySqlShardFlusher.RowsPerStatement)
            {
                batches.Add((shard, rows[start..Math.Min(rows.Length, start + MySqlShardFlusher.RowsPerStatement)]));
            }
        }

        batches.CompleteAdding();
        await Task.WhenAll(consumers);
    }

    private static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];

    private static int IntArg(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }

    private static string StringArg(string[] args, string name, string fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }
}
