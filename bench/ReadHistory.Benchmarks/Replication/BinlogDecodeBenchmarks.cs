using System.Globalization;
using System.Text;
using BenchmarkDotNet.Attributes;
using ReadHistory.MySql.Replication;
using ReadHistory.MySql.Replication.Events;
using ReadHistory.TestSupport;

namespace ReadHistory.Benchmarks.Replication;

/// <summary>
/// Binlog rows decoded per second on one core, on REAL bytes: [GlobalSetup] starts a private MariaDB (ROW binlog,
/// CRC32), writes history rows (user_id BIGINT UNSIGNED, content_type SMALLINT UNSIGNED, content_id BIGINT UNSIGNED,
/// read_at DATETIME(3)) and captures the binlog file. Each benchmark decodes the whole capture — header, CRC32
/// verification, TABLE_MAP, WRITE_ROWS, GTID/XID — and reads every column of every row. Times are per row
/// (OperationsPerInvoke = rows): rows/s = 1e9 / Mean(ns).
/// <list type="bullet">
/// <item>Batched: multi-row INSERTs of 100 rows (what a batching writer produces).</item>
/// <item>Single: one row per transaction (worst case: a GTID, TABLE_MAP, WRITE_ROWS and XID per row).</item>
/// </list>
/// Run: <c>dotnet run -c Release --project bench/ReadHistory.Benchmarks -- --filter '*BinlogDecode*'</c>.
/// </summary>
[MedianColumn]
public class BinlogDecodeBenchmarks
{
    private const int BatchedRows = 20_000;
    private const int SingleRows = 2_000;
    private readonly int[] _scratch = new int[16];
    private byte[][] _batched = [];
    private byte[][] _single = [];

    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    /// <summary>Reads every row without boxing (the CDC hot path): column i as UInt64 / DateTime.</summary>
    [Benchmark(OperationsPerInvoke = BatchedRows)]
    public ulong Batched_RowReader() => DecodeNoBoxing(_batched, BatchedRows, copyEvents: false);

    /// <summary>As above, copying each event first (what the network path does with the receive buffer).</summary>
    [Benchmark(OperationsPerInvoke = BatchedRows)]
    public ulong Batched_RowReader_CopyEvents() => DecodeNoBoxing(_batched, BatchedRows, copyEvents: true);

    /// <summary>Boxed values through the transaction assembler (BinlogTransaction.Changes).</summary>
    [Benchmark(OperationsPerInvoke = BatchedRows)]
    public int Batched_Transactions_Boxed()
    {
        var decoder = new BinlogEventDecoder();
        var assembler = new BinlogTransactionAssembler();
        var rows = 0;
        foreach (var bytes in _batched)
        {
            if (assembler.Add(decoder.Decode(bytes)) is { } transaction)
            {
                rows += transaction.Changes.Count;
            }
        }

        return Check(rows, BatchedRows);
    }

    /// <summary>One row per transaction, no boxing.</summary>
    [Benchmark(OperationsPerInvoke = SingleRows)]
    public ulong Single_RowReader() => DecodeNoBoxing(_single, SingleRows, copyEvents: false);

    private ulong DecodeNoBoxing(byte[][] events, int expectedRows, bool copyEvents)
    {
        var decoder = new BinlogEventDecoder();
        ulong sum = 0;
        var rows = 0;
        foreach (var bytes in events)
        {
            var decoded = decoder.Decode(copyEvents ? bytes.AsSpan().ToArray() : bytes);
            if (decoded is RowsEvent rowsEvent && rowsEvent.Table?.Table == "history")
            {
                var reader = rowsEvent.GetRowReader(_scratch);
                while (reader.Read())
                {
                    var row = reader.Current;
                    sum += row.GetUInt64(0) + row.GetUInt64(1) + row.GetUInt64(2) + (ulong)row.GetDateTime(3).Ticks;
                    rows++;
                }
            }
        }

        Check(rows, expectedRows);
        return sum;
    }

    private static int Check(int rows, int expected) =>
        rows == expected ? rows : throw new InvalidOperationException($"decoded {rows} rows, expected {expected}");

    private async Task SetupAsync()
    {
        await using var server = await MariaDbServer.StartAsync(new MariaDbServerOptions { RocksDb = false });
        await server.SqlAsync("CREATE DATABASE bench; CREATE TABLE bench.history (user_id BIGINT UNSIGNED NOT NULL, content_type SMALLINT UNSIGNED NOT NULL, " +
            "content_id BIGINT UNSIGNED NOT NULL, read_at DATETIME(3) NOT NULL, PRIMARY KEY (user_id, content_type, content_id)) ENGINE=InnoDB;");
        _batched = await CaptureAsync(server, BatchedRows, 100, 0);
        _single = await CaptureAsync(server, SingleRows, 1, BatchedRows);
    }

    private static async Task<byte[][]> CaptureAsync(MariaDbServer server, int rows, int perStatement, int offset)
    {
        await server.SqlAsync("FLUSH BINARY LOGS;");
        var file = (await server.SqlAsync("SHOW MASTER STATUS;")).Split('\t')[0].Trim();
        var sql = new StringBuilder("SET autocommit = 1;\n");
        var random = new Random(7);
        for (var i = 0; i < rows; i += perStatement)
        {
            sql.Append("INSERT INTO bench.history VALUES ");
            for (var j = 0; j < perStatement; j++)
            {
                var n = offset + i + j;
                var at = new DateTime(2026, 1, 1).AddMilliseconds(random.NextInt64(0, 300L * 86_400_000));
                sql.Append(j == 0 ? string.Empty : ",").Append(CultureInfo.InvariantCulture,
                    $"({(ulong)random.NextInt64(1, long.MaxValue) * 2}, {n % 7}, {n}, '{at:yyyy-MM-dd HH:mm:ss.fff}')");
            }

            sql.Append(";\n");
        }

        await server.SqlAsync(sql.ToString());
        await server.SqlAsync("FLUSH BINARY LOGS;");
        var bytes = await File.ReadAllBytesAsync(Path.Combine(server.DataDirectory, file));
        return BinlogFileReader.SplitEvents(bytes).Select(range => bytes[range]).ToArray();
    }
}
