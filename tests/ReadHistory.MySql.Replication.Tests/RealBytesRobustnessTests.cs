using System.Buffers.Binary;
using System.Diagnostics;
using ReadHistory.MySql.Replication.Events;
using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.MySql.Replication.Tests;

/// <summary>Corruption, unknown events and mutation of real binlog bytes captured from MariaDB.</summary>
[Collection(MariaDbFixture.Collection)]
public sealed class RealBytesRobustnessTests(MariaDbFixture fixture)
{
    private MariaDbServer Server => fixture.Server;

    [Fact]
    public async Task A_flipped_bit_in_a_real_rows_event_is_caught_by_the_checksum()
    {
        var (bytes, ranges) = await CaptureAsync();
        var rows = ranges.First(r => IsRows(bytes, r));
        var corrupt = (byte[])bytes.Clone();
        corrupt[rows.Start.Value + 25] ^= 0x10;
        var error = Assert.Throws<BinlogChecksumException>(() => BinlogFileReader.ReadEvents(corrupt).ToList());
        Assert.Contains("CRC32 mismatch", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_event_inserted_into_a_real_binlog_is_skipped()
    {
        var (bytes, ranges) = await CaptureAsync();
        var expected = BinlogFileReader.ReadEvents(bytes).ToList();
        var unknown = EventBuilder.Event((BinlogEventType)211, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
        var at = ranges[3].Start.Value;
        byte[] patched = [.. bytes.AsSpan(0, at), .. unknown, .. bytes.AsSpan(at)];
        var actual = BinlogFileReader.ReadEvents(patched).ToList();
        Assert.Equal(expected.Count + 1, actual.Count);
        Assert.IsType<UnknownEvent>(actual[3]);
        Assert.Equal(expected.Select(e => e.Header.EventType), actual.Where((_, i) => i != 3).Select(e => e.Header.EventType));
        Assert.Equal(
            expected.OfType<RowsEvent>().Where(e => e.Table is not null).SelectMany(e => e.DecodeRows()).Select(r => r.ToString()),
            actual.OfType<RowsEvent>().Where(e => e.Table is not null).SelectMany(e => e.DecodeRows()).Select(r => r.ToString()));
    }

    [Fact]
    public async Task Transactions_assembled_from_the_file_end_at_the_servers_gtid_position()
    {
        var start = await BinlogFiles.CurrentFileAsync(Server);
        var db = await Server.CreateDatabaseAsync("assemble");
        await Server.SqlAsync("CREATE TABLE t (id BIGINT PRIMARY KEY, v VARCHAR(20)) ENGINE=InnoDB; CREATE TABLE m (id INT PRIMARY KEY) ENGINE=Aria;" +
            ClientTestKit.InsertEach(0, 5) + "INSERT INTO m VALUES (1); TRUNCATE TABLE t;", db).DefaultTimeout();
        var gtid = (await Server.SqlAsync("SELECT @@gtid_binlog_pos;").DefaultTimeout()).Trim();
        var assembler = new BinlogTransactionAssembler();
        var transactions = (await BinlogFiles.ReadEventsAsync(Server, start)).Select(assembler.Add).OfType<BinlogTransaction>().ToList();
        Assert.Equal(gtid, assembler.GtidPosition.ToString());
        Assert.False(assembler.InTransaction);
        Assert.Equal(Enumerable.Range(0, 5).Select(i => (long)i), ClientTestKit.InsertedIds(transactions, db, "t"));
        var aria = transactions.Single(t => t.Changes.Any(c => c.Table == "m")); // non-transactional: closed by a COMMIT query
        Assert.Equal(1, aria.Changes[0].After![0]);
        Assert.Contains(transactions, t => t.Statements.Any(s => s.Sql.StartsWith("TRUNCATE", StringComparison.OrdinalIgnoreCase)));
    }

    [Fact]
    public async Task Mutated_and_truncated_real_events_never_crash_or_hang_the_decoder()
    {
        var (bytes, ranges) = await CaptureAsync();
        var fde = bytes[ranges[0]];
        var random = new Random(1234);
        var clock = Stopwatch.StartNew();
        var outcomes = new Dictionary<string, int>();
        var cases = 0;
        for (var e = 1; e < ranges.Count; e++)
        {
            var original = bytes[ranges[e]];
            var tableMap = IsRows(bytes, ranges[e]) ? bytes[ranges[e - 1]] : null;
            var variants = new List<byte[]>();
            for (var cut = BinlogEventHeader.Size + 4; cut < original.Length; cut += Math.Max(1, original.Length / 40))
            {
                variants.Add(Resize(original, cut));
            }

            for (var m = 0; m < 60; m++)
            {
                var mutated = (byte[])original.Clone();
                for (var k = 0; k < 1 + random.Next(3); k++)
                {
                    mutated[BinlogEventHeader.Size + random.Next(mutated.Length - BinlogEventHeader.Size - 4)] = (byte)random.Next(256);
                }

                variants.Add(Resize(mutated, mutated.Length));
            }

            foreach (var variant in variants)
            {
                cases++;
                var outcome = Decode(fde, tableMap, variant);
                outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
            }
        }

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"decoding {cases} hostile variants took {clock.Elapsed}");
        Assert.True(cases > 500, $"only {cases} variants");
        Assert.All(outcomes.Keys, key => Assert.True(key is "ok" or "format" or "no-table", $"unexpected outcome {key}"));
    }

    private static string Decode(byte[] fde, byte[]? tableMap, byte[] variant)
    {
        try
        {
            var decoder = new BinlogEventDecoder();
            decoder.Decode(fde);
            if (tableMap is not null)
            {
                decoder.Decode(tableMap);
            }

            var decoded = decoder.Decode(variant);
            if (decoded is RowsEvent rows)
            {
                if (rows.Table is null)
                {
                    return "no-table";
                }

                foreach (var change in rows.DecodeRows())
                {
                    _ = change.ToString();
                }
            }

            return "ok";
        }
        catch (BinlogFormatException)
        {
            return "format";
        }
        catch (Exception ex)
        {
            return ex.GetType().Name + ": " + ex.Message;
        }
    }

    /// <summary>Cuts (or keeps) an event's body to <paramref name="length"/> bytes before the checksum, fixing event_size and the CRC so the parsers see it.</summary>
    private static byte[] Resize(byte[] original, int length)
    {
        var resized = new byte[length];
        original.AsSpan(0, length - 4).CopyTo(resized);
        BinaryPrimitives.WriteUInt32LittleEndian(resized.AsSpan(9), (uint)length);
        BinaryPrimitives.WriteUInt32LittleEndian(resized.AsSpan(length - 4), System.IO.Hashing.Crc32.HashToUInt32(resized.AsSpan(0, length - 4)));
        return resized;
    }

    private static bool IsRows(byte[] bytes, Range range) =>
        RowsEvent.IsRowsEvent((BinlogEventType)bytes[range.Start.Value + 4], out _, out _, out _);

    private async Task<(byte[] Bytes, IReadOnlyList<Range> Ranges)> CaptureAsync()
    {
        await Server.SqlAsync("SET GLOBAL binlog_row_metadata = 'FULL';").DefaultTimeout();
        var start = await BinlogFiles.CurrentFileAsync(Server);
        var db = await Server.CreateDatabaseAsync("fuzz");
        await Server.SqlAsync(
            """
            SET time_zone = '+00:00';
            CREATE TABLE f (id INT PRIMARY KEY, u BIGINT UNSIGNED, d DECIMAL(20,6), v VARCHAR(300), c CHAR(20), b BLOB,
              dt DATETIME(6), ts TIMESTAMP(3) NULL, tm TIME(2), y YEAR, e ENUM('x','y'), s SET('p','q'), bits BIT(12), fl FLOAT, db DOUBLE, dd DATE);
            INSERT INTO f VALUES (1, 18446744073709551615, -12345.678901, REPEAT('v', 280), 'char', 0x0102, '2024-01-02 03:04:05.123456',
              '2024-01-02 03:04:05.123', '-12:00:00.5', 2024, 'y', 'p,q', b'101', 1.25, -3.5, '2024-02-29'),
              (2, NULL, 0, '', '', '', '1000-01-01 00:00:00', NULL, '00:00:00', 1901, 'x', '', b'0', 0, 0, '1000-01-01');
            UPDATE f SET v = 'changed', u = 5 WHERE id = 2;
            DELETE FROM f WHERE id = 1;
            """, db).DefaultTimeout();
        var file = (await BinlogFiles.ReadBytesAsync(Server, start))[0];
        return (file, BinlogFileReader.SplitEvents(file));
    }
}
