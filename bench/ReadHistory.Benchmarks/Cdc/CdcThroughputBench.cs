using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using ReadHistory.Core.Routing;
using ReadHistory.Server.Cdc;
using ReadHistory.Benchmarks.Shared;
using ReadHistory.Server.Storage;
using ReadHistory.Server.Topology;
using ReadHistory.TestSupport;
using StackExchange.Redis;

namespace ReadHistory.Benchmarks.Cdc;

/// <summary>
/// <c>cdc-throughput --rows 1000000 [--pools feed:16,push:8] [--runs 3] [--rows-per-insert 1000] [--redis single|cluster]</c>: loads the rows
/// into a private MariaDB (ROW binlog) as multi-row INSERTs, then times a <see cref="CdcPublisher"/> catching up
/// on them from a checkpoint taken before the load: binlog read and decode, grouping by slot, fenced XADDs and
/// checkpoint writes into a private Redis (or Redis Cluster, 3 + 3). Each run uses a fresh key prefix over the same binlog.
/// </summary>
internal static class CdcThroughputBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var rows = IntArg(args, "--rows", 1_000_000);
        var runs = IntArg(args, "--runs", 3);
        var perInsert = IntArg(args, "--rows-per-insert", 1000);
        var pools = StringArg(args, "--pools", "feed:16");
        var topology = new TopologyOptions();
        foreach (var spec in pools.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = spec.Split(':');
            topology.Pools.Add(new PoolOptions { Name = parts[0], Slots = Enumerable.Range(0, int.Parse(parts[1], CultureInfo.InvariantCulture)).Select(_ => new SlotOptions()).ToList() });
        }

        await using var mariaDb = await MariaDbServer.StartAsync(new MariaDbServerOptions
        {
            RocksDb = false,
            ExtraArguments = ["--innodb-buffer-pool-size=1G", "--innodb-log-file-size=512M", "--innodb-flush-log-at-trx-commit=2", "--sync-binlog=0"],
        });
        await using var redisServer = await BenchRedis.StartAsync(args);
        var database = ShippedDefaults.Database(o =>
        {
            o.ConnectionString = mariaDb.ConnectionString();
            o.DatabasePrefix = "readhistory";
            o.Databases = 2;
            o.TablesPerDatabase = 2;
            o.Engine = StorageEngine.InnoDb;
        });
        var migration = await SchemaMigrator.MigrateAsync(database, NullLogger.Instance, CancellationToken.None);
        var start = (await mariaDb.SqlAsync("SELECT @@gtid_binlog_pos")).Trim();
        var loadClock = Stopwatch.StartNew();
        await LoadAsync(mariaDb, database, rows, perInsert);
        var end = (await mariaDb.SqlAsync("SELECT @@gtid_binlog_pos")).Trim();
        Console.WriteLine($"MariaDB {migration.ServerVersion}: loaded {rows:N0} rows as {rows / perInsert:N0} INSERTs of {perInsert} in {loadClock.Elapsed.TotalSeconds:0.0} s; binlog {start} → {end}; pools {pools}; Redis {redisServer.Name}");

        // The server's own connection options; a long timeout, since the bench queues whole publishes back to back.
        using var redis = await ConnectionMultiplexer.ConnectAsync(RedisConnector.Configure(new RedisOptions { Configuration = redisServer.Configuration + ",syncTimeout=30000" }, "readhistory-cdc-bench", TimeSpan.Zero));
        var results = new List<(double Wall, double Cpu)>();
        for (var run = 1; run <= runs; run++)
        {
            var redisOptions = new RedisOptions { Configuration = redisServer.Configuration, KeyPrefix = "b" + run.ToString(CultureInfo.InvariantCulture) };
            var keys = new CdcKeys(redisOptions.KeyPrefix);
            var db = redis.GetDatabase();
            var map = CdcTopology.From(topology);
            var slots = Enumerable.Range(0, map.StreamCount).Select(i => keys.Slot(map.Pools[map.StreamAt(i).Pool], map.StreamAt(i).Slot)).ToArray();
            await new CdcRedisStore(db, keys).SeedAsync((ulong)run, start, slots);
            var cdc = ShippedDefaults.Cdc(static o => o.StreamMaxLength = 1_000_000);
            await using var publisher = new CdcPublisher(cdc, database, topology, redisOptions, redis, TimeProvider.System, NullLogger.Instance);
            var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            await publisher.StartAsync(CancellationToken.None);
            while (publisher.LastPublishedPosition != end)
            {
                if (clock.Elapsed > TimeSpan.FromMinutes(10))
                {
                    Console.WriteLine($"run {run}: timed out at {publisher.LastPublishedPosition}");
                    return 1;
                }

                await Task.Delay(5);
            }

            var wall = clock.Elapsed.TotalSeconds;
            var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds;
            await publisher.StopAsync(CancellationToken.None);
            var entries = 0L;
            foreach (var pool in topology.Pools)
            {
                for (var slot = 0; slot < pool.Slots.Count; slot++)
                {
                    entries += await db.StreamLengthAsync(keys.Stream(pool.Name, slot));
                }
            }

            var info = (string?)await db.ExecuteAsync("MEMORY", "USAGE", keys.Stream(topology.Pools[0].Name, 0)) ?? "?";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"run {run}: {publisher.Metrics.RowsPublished:N0} rows in {wall:0.00} s = {rows / wall:N0} rows/s wall; publisher CPU {cpu:0.00} s = {rows / cpu:N0} rows per CPU-second; {entries:N0} stream entries, slot 0 stream {info} bytes"));
            results.Add((rows / wall, rows / cpu));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"median of {runs}: {Median(results.Select(r => r.Wall)):N0} rows/s wall, {Median(results.Select(r => r.Cpu)):N0} rows per CPU-second"));
        return 0;
    }

    private static async Task LoadAsync(MariaDbServer server, DatabaseOptions database, int rows, int perInsert)
    {
        var names = new ShardNames(database.DatabasePrefix, database.Databases, database.TablesPerDatabase);
        var random = new Random(42);
        var sql = new StringBuilder();
        var written = 0;
        var statement = 0;
        while (written < rows)
        {
            var table = names.QualifiedTable(statement++ % (database.Databases * database.TablesPerDatabase));
            sql.Append("INSERT INTO ").Append(table).Append(" (user_id, content_type, content_id, read_at) VALUES ");
            var n = Math.Min(perInsert, rows - written);
            for (var i = 0; i < n; i++)
            {
                sql.Append(CultureInfo.InvariantCulture, $"{(i == 0 ? string.Empty : ",")}({random.NextInt64(1, 10_000_000)},0,{random.NextInt64(1, 1L << 40)},1700000000)");
            }

            sql.Append(" ON DUPLICATE KEY UPDATE read_at = VALUES(read_at);\n");
            written += n;
            if (sql.Length > 8_000_000 || written == rows)
            {
                await server.SqlAsync(sql.ToString());
                sql.Clear();
            }
        }
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

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
