using System.Diagnostics;
using System.Globalization;
using System.Text;
using MySqlConnector;
using ReadHistory.TestSupport;

namespace ReadHistory.Benchmarks.MySql;

/// <summary>
/// <c>mysql-pointquery [--seconds N] [--rows N] [--rounds N] [--concurrency 1,16,64]</c>: starts a private MariaDB, loads
/// t(id BIGINT PRIMARY KEY, v BIGINT), measures multi-row INSERT (1000 rows per statement), then for each concurrency
/// runs <c>SELECT v FROM t WHERE id = ?</c> with MySqlConnector (text protocol and prepared) and with mariadb-slap
/// (MariaDB's C client) on the same server, and prints queries/s (and P99 for this client).
/// </summary>
internal static class PointQueryBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var seconds = IntOption(args, "--seconds", 10);
        var rows = IntOption(args, "--rows", 100_000);
        var rounds = IntOption(args, "--rounds", 3);
        var concurrencies = (Option(args, "--concurrency") ?? "1,16,64").Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture)).ToArray();
        var inv = CultureInfo.InvariantCulture;

        Console.WriteLine($"mysql-pointquery: {rows} rows, {seconds} s per run, {rounds} interleaved rounds, concurrency {string.Join(",", concurrencies)}; {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        await using var server = await MariaDbServer.StartAsync(new MariaDbServerOptions
        {
            RocksDb = false,
            Binlog = false,
            ExtraArguments = ["--innodb-buffer-pool-size=256M", "--innodb-flush-log-at-trx-commit=2"],
        });
        await server.SqlAsync("CREATE DATABASE bench; CREATE TABLE bench.t (id BIGINT PRIMARY KEY, v BIGINT) ENGINE=InnoDB; CREATE TABLE bench.ins (id BIGINT PRIMARY KEY, v BIGINT) ENGINE=InnoDB;");
        Console.WriteLine($"server: {(await server.SqlAsync("SELECT VERSION()")).Trim()} on 127.0.0.1:{server.Port}");
        var connectionString = server.ConnectionString("bench", "Maximum Pool Size=200");

        // Load (and measure) with multi-row INSERTs of 1000 rows.
        var loadRate = await InsertAsync(connectionString, "t", rows);
        Console.WriteLine(string.Create(inv, $"load t: {rows} rows, {loadRate:F0} rows/s (1000-row INSERTs, parameters substituted client-side)"));
        var insertRates = new List<double>();
        for (var run = 0; run < 3; run++)
        {
            await server.SqlAsync("TRUNCATE TABLE bench.ins;");
            insertRates.Add(await InsertAsync(connectionString, "ins", 200_000));
        }

        Console.WriteLine(string.Create(inv, $"multi-row insert: 200000 rows x3, median {Median(insertRates):F0} rows/s ({string.Join(", ", insertRates.Select(r => r.ToString("F0", inv)))})"));

        // A query file for mariadb-slap: distinct random ids, as our client draws them.
        var queryFile = Path.Combine(server.Directory, "slap-queries.sql");
        var random = new Random(42);
        var builder = new StringBuilder();
        for (var i = 0; i < 20000; i++)
        {
            builder.Append(inv, $"SELECT v FROM t WHERE id = {random.Next(1, rows + 1)};\n");
        }

        await File.WriteAllTextAsync(queryFile, builder.ToString());

        Console.WriteLine();
        Console.WriteLine("| concurrency | client | queries/s, median (rounds) | P50 ms | P99 ms | vs mariadb-slap |");
        Console.WriteLine("|---:|---|---:|---:|---:|---:|");
        foreach (var concurrency in concurrencies)
        {
            // Interleaved rounds (ours, ours prepared, slap, again...) so that load from other work on the shared
            // machine hits all three alike; the medians are printed.
            var text = new List<(double Qps, double P50, double P99)>();
            var prepared = new List<(double Qps, double P50, double P99)>();
            var blocking = new List<(double Qps, double P50, double P99)>();
            var slap = new List<double>();
            long slapQueries = 0;
            for (var round = 0; round < rounds; round++)
            {
                text.Add(await RunOursAsync(connectionString, rows, concurrency, seconds, prepared: false));
                prepared.Add(await RunOursAsync(connectionString, rows, concurrency, seconds, prepared: true));
                if (concurrency <= 16)
                {
                    blocking.Add(RunOursBlocking(connectionString, rows, concurrency, seconds));
                }

                slapQueries = (long)Math.Max(concurrency * 100, text[^1].Qps * seconds);
                slap.Add(await RunSlapAsync(server, queryFile, concurrency, slapQueries));
            }

            var slapMedian = Median(slap);
            void Print(string client, List<(double Qps, double P50, double P99)> runs)
            {
                var qps = Median(runs.Select(r => r.Qps).ToList());
                Console.WriteLine(string.Create(inv,
                    $"| {concurrency} | {client} | {qps:F0} ({string.Join(", ", runs.Select(r => r.Qps.ToString("F0", inv)))}) | {Median(runs.Select(r => r.P50).ToList()):F3} | {Median(runs.Select(r => r.P99).ToList()):F3} | {qps / slapMedian:F2}x |"));
            }

            Print("MySqlConnector (text)", text);
            Print("MySqlConnector (prepared)", prepared);
            if (blocking.Count > 0)
            {
                Print("MySqlConnector (prepared, blocking methods)", blocking);
            }

            Console.WriteLine(string.Create(inv, $"| {concurrency} | mariadb-slap (~{slapQueries} queries/run) | {slapMedian:F0} ({string.Join(", ", slap.Select(r => r.ToString("F0", inv)))}) | n/a | n/a | 1.00x |"));
        }

        return 0;
    }

    private static async Task<double> InsertAsync(string connectionString, string table, int rows)
    {
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync();
        var sql = new StringBuilder($"INSERT INTO {table} (id, v) VALUES ");
        for (var i = 0; i < 1000; i++)
        {
            sql.Append(CultureInfo.InvariantCulture, $"{(i == 0 ? string.Empty : ",")}(@i{i}, @v{i})");
        }

        await using var command = new MySqlCommand(sql.ToString(), connection);
        for (var i = 0; i < 1000; i++)
        {
            command.Parameters.AddWithValue("@i" + i.ToString(CultureInfo.InvariantCulture), 0L);
            command.Parameters.AddWithValue("@v" + i.ToString(CultureInfo.InvariantCulture), 0L);
        }

        var clock = Stopwatch.StartNew();
        for (var start = 1; start <= rows; start += 1000)
        {
            for (var i = 0; i < 1000; i++)
            {
                command.Parameters[2 * i].Value = (long)(start + i);
                command.Parameters[(2 * i) + 1].Value = (long)(start + i) * 7;
            }

            await command.ExecuteNonQueryAsync();
        }

        return rows / clock.Elapsed.TotalSeconds;
    }

    private static async Task<(double Qps, double P50, double P99)> RunOursAsync(string connectionString, int rows, int concurrency, int seconds, bool prepared)
    {
        var warmup = TimeSpan.FromSeconds(Math.Min(2, seconds));
        var duration = TimeSpan.FromSeconds(seconds);
        var ready = 0;
        var allReady = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var latencies = new List<long>[concurrency];
        var counts = new long[concurrency];
        var workers = new Task[concurrency];
        var stopAt = 0L;
        var measureFrom = 0L;
        for (var w = 0; w < concurrency; w++)
        {
            var index = w;
            latencies[w] = new List<long>(1 << 16);
            workers[w] = Task.Run(async () =>
            {
                var random = new Random(index + 1);
                await using var connection = new MySqlConnection(connectionString);
                await connection.OpenAsync();
                await using var command = new MySqlCommand("SELECT v FROM t WHERE id = @id", connection);
                var parameter = command.Parameters.AddWithValue("@id", 1L);
                if (prepared)
                {
                    await command.PrepareAsync();
                }

                if (Interlocked.Increment(ref ready) == concurrency)
                {
                    allReady.SetResult();
                }

                await go.Task;
                var list = latencies[index];
                while (true)
                {
                    var before = Stopwatch.GetTimestamp();
                    if (before >= Volatile.Read(ref stopAt))
                    {
                        break;
                    }

                    parameter.Value = (long)random.Next(1, rows + 1);
                    await using (var reader = await command.ExecuteReaderAsync())
                    {
                        if (!await reader.ReadAsync())
                        {
                            throw new InvalidOperationException("row not found");
                        }

                        _ = reader.GetInt64(0);
                    }

                    var after = Stopwatch.GetTimestamp();
                    if (before >= Volatile.Read(ref measureFrom))
                    {
                        list.Add(after - before);
                        counts[index]++;
                    }
                }
            });
        }

        Volatile.Write(ref stopAt, long.MaxValue);
        Volatile.Write(ref measureFrom, long.MaxValue);
        await allReady.Task;
        go.SetResult();
        var begin = Stopwatch.GetTimestamp();
        Volatile.Write(ref measureFrom, begin + (long)(warmup.TotalSeconds * Stopwatch.Frequency));
        Volatile.Write(ref stopAt, begin + (long)((warmup + duration).TotalSeconds * Stopwatch.Frequency));
        await Task.WhenAll(workers);
        var all = latencies.SelectMany(l => l).ToArray();
        Array.Sort(all);
        double Percentile(double p) => all.Length == 0 ? double.NaN : all[Math.Min(all.Length - 1, (int)(p * all.Length))] * 1000.0 / Stopwatch.Frequency;
        return (counts.Sum() / duration.TotalSeconds, Percentile(0.50), Percentile(0.99));
    }

    /// <summary>The same loop with the blocking ADO.NET methods on one thread per connection (blocking socket reads, as the C client does).</summary>
    private static (double Qps, double P50, double P99) RunOursBlocking(string connectionString, int rows, int concurrency, int seconds)
    {
        var warmup = TimeSpan.FromSeconds(Math.Min(2, seconds));
        var duration = TimeSpan.FromSeconds(seconds);
        var latencies = new List<long>[concurrency];
        var counts = new long[concurrency];
        using var ready = new CountdownEvent(concurrency);
        using var go = new ManualResetEventSlim();
        long stopAt = long.MaxValue, measureFrom = long.MaxValue;
        var threads = new Thread[concurrency];
        Exception? failure = null;
        for (var w = 0; w < concurrency; w++)
        {
            var index = w;
            latencies[w] = new List<long>(1 << 16);
            threads[w] = new Thread(() =>
            {
                var signalled = false;
                try
                {
                    var random = new Random(index + 1);
                    // Own unpooled connections: sockets that have only ever been used with blocking calls.
                    using var connection = new MySqlConnection(connectionString + ";Pooling=false");
                    connection.Open();
                    using var command = new MySqlCommand("SELECT v FROM t WHERE id = @id", connection);
                    var parameter = command.Parameters.AddWithValue("@id", 1L);
                    command.Prepare();
                    ready.Signal();
                    signalled = true;
                    go.Wait();
                    var list = latencies[index];
                    while (true)
                    {
                        var before = Stopwatch.GetTimestamp();
                        if (before >= Volatile.Read(ref stopAt))
                        {
                            break;
                        }

                        parameter.Value = (long)random.Next(1, rows + 1);
                        using (var reader = command.ExecuteReader())
                        {
                            if (!reader.Read())
                            {
                                throw new InvalidOperationException("row not found");
                            }

                            _ = reader.GetInt64(0);
                        }

                        var after = Stopwatch.GetTimestamp();
                        if (before >= Volatile.Read(ref measureFrom))
                        {
                            list.Add(after - before);
                            counts[index]++;
                        }
                    }
                }
                catch (Exception ex)
                {
                    failure = ex;
                    if (!signalled)
                    {
                        ready.Signal();
                    }
                }
            }) { IsBackground = true };
            threads[w].Start();
        }

        ready.Wait();
        var begin = Stopwatch.GetTimestamp();
        Volatile.Write(ref measureFrom, begin + (long)(warmup.TotalSeconds * Stopwatch.Frequency));
        Volatile.Write(ref stopAt, begin + (long)((warmup + duration).TotalSeconds * Stopwatch.Frequency));
        go.Set();
        foreach (var thread in threads)
        {
            thread.Join();
        }

        if (failure is not null)
        {
            throw new InvalidOperationException("blocking run failed", failure);
        }

        var all = latencies.SelectMany(l => l).ToArray();
        Array.Sort(all);
        double Percentile(double p) => all.Length == 0 ? double.NaN : all[Math.Min(all.Length - 1, (int)(p * all.Length))] * 1000.0 / Stopwatch.Frequency;
        return (counts.Sum() / duration.TotalSeconds, Percentile(0.50), Percentile(0.99));
    }

    private static async Task<double> RunSlapAsync(MariaDbServer server, string queryFile, int concurrency, long queries)
    {
        var output = await ChildProcess.RunAsync("mariadb-slap",
        [
            "--no-defaults", "--host=127.0.0.1", "--port=" + server.Port.ToString(CultureInfo.InvariantCulture),
            "--user=" + MariaDbServer.User, "--password=" + MariaDbServer.Password,
            "--concurrency=" + concurrency.ToString(CultureInfo.InvariantCulture),
            "--number-of-queries=" + queries.ToString(CultureInfo.InvariantCulture),
            "--query=" + queryFile, "--delimiter=;", "--create-schema=bench", "--no-drop", "--iterations=1",
        ], timeout: TimeSpan.FromMinutes(10));
        foreach (var line in output.Split('\n'))
        {
            const string Marker = "Average number of seconds to run all queries:";
            var at = line.IndexOf(Marker, StringComparison.Ordinal);
            if (at >= 0)
            {
                var secondsText = line[(at + Marker.Length)..].Trim().Split(' ')[0];
                var elapsed = double.Parse(secondsText, CultureInfo.InvariantCulture);
                return queries / Math.Max(elapsed, 0.001);
            }
        }

        throw new InvalidOperationException("mariadb-slap printed no timing:\n" + output);
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string? Option(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }

    private static int IntOption(string[] args, string name, int fallback) =>
        Option(args, name) is { } value ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;
}
