using System.Buffers.Binary;
using ReadHistory.MySql.Replication;
using ReadHistory.MySql.Replication.Events;
using ReadHistory.MySql.Replication.Rows;
using ReadHistory.TestSupport;

namespace ReadHistory.Benchmarks.Fuzzing;

/// <summary>
/// Fuzzes <see cref="BinlogEventDecoder.Decode"/> (and the rows it decodes, and <see cref="BinlogFileReader"/>) in process.
/// Seeds are real events captured from MariaDB (<see cref="CaptureSql"/>): each event with what it needs before it (the
/// FORMAT_DESCRIPTION, and for a rows event its TABLE_MAP). A mutated input is the seed with one of its events mutated;
/// three times in four the event's size field and CRC32 are then fixed, so the body parsers see the damage rather than
/// the checksum. The decoder documents <see cref="BinlogFormatException"/> (and its <see cref="BinlogChecksumException"/>)
/// for malformed bytes: any other exception is a finding.
/// </summary>
internal sealed class BinlogFuzzer
{
    /// <summary>
    /// SQL whose binlog covers the events and column types the decoder knows: GTIDs, queries, XIDs, TABLE_MAP with full
    /// metadata, WRITE/UPDATE/DELETE_ROWS over every column type, a non-transactional table, and compressed events.
    /// </summary>
    public const string CaptureSql =
        """
        SET time_zone = '+00:00';
        CREATE TABLE f (id INT PRIMARY KEY, u BIGINT UNSIGNED, d DECIMAL(20,6), v VARCHAR(300), c CHAR(20), b BLOB,
          dt DATETIME(6), ts TIMESTAMP(3) NULL, tm TIME(2), y YEAR, e ENUM('x','y'), s SET('p','q'), bits BIT(12), fl FLOAT, db DOUBLE, dd DATE,
          ti TINYINT, si SMALLINT UNSIGNED, mi MEDIUMINT, j JSON, vb VARBINARY(40), t TEXT) ENGINE=InnoDB;
        CREATE TABLE history (user_id BIGINT UNSIGNED NOT NULL, content_type SMALLINT UNSIGNED NOT NULL, content_id BIGINT UNSIGNED NOT NULL,
          read_at DATETIME(3) NOT NULL, PRIMARY KEY (user_id, content_type, content_id)) ENGINE=InnoDB;
        CREATE TABLE m (id INT PRIMARY KEY) ENGINE=Aria;
        INSERT INTO f VALUES (1, 18446744073709551615, -12345.678901, REPEAT('v', 280), 'char', 0x0102, '2024-01-02 03:04:05.123456',
          '2024-01-02 03:04:05.123', '-12:00:00.5', 2024, 'y', 'p,q', b'101', 1.25, -3.5, '2024-02-29', -128, 65535, -8388608, '{"a":[1,2]}', 0xDEADBEEF, 'text'),
          (2, NULL, 0, '', '', '', '1000-01-01 00:00:00', NULL, '00:00:00', 1901, 'x', '', b'0', 0, 0, '1000-01-01', NULL, NULL, NULL, NULL, NULL, NULL);
        UPDATE f SET v = 'changed', u = 5 WHERE id = 2;
        DELETE FROM f WHERE id = 1;
        INSERT INTO history VALUES (42, 1, 7, '2026-01-01 00:00:00.123'), (42, 1, 8, '2026-01-01 00:00:01'), (18446744073709551615, 65535, 1, '2026-06-30 23:59:59.999');
        DELETE FROM history WHERE content_id = 8;
        INSERT INTO m VALUES (1);
        TRUNCATE TABLE m;
        """;

    /// <summary>The same kinds of statements again, run with log_bin_compress on: QUERY_COMPRESSED and compressed rows events.</summary>
    public const string CompressedSql =
        """
        INSERT INTO history VALUES (43, 2, 9, '2026-01-02 00:00:00'), (43, 2, 10, '2026-01-02 00:00:00'), (43, 2, 11, '2026-01-02 00:00:00');
        UPDATE f SET v = REPEAT('w', 200) WHERE id = 2;
        DELETE FROM history WHERE user_id = 43;
        CREATE TABLE compressed_ddl (id INT PRIMARY KEY);
        """;

    private const int HeaderSize = BinlogEventHeader.Size;
    private readonly List<BinlogCase> _corpus;
    private readonly byte[][] _events;
    private readonly Mutator _mutator;

    /// <summary>Builds the corpus from captured binlog files (each with its 4-byte magic).</summary>
    public BinlogFuzzer(IEnumerable<byte[]> files, int seed)
    {
        _corpus = [];
        var events = new List<byte[]>();
        foreach (var file in files)
        {
            var split = BinlogFileReader.SplitEvents(file).Select(range => file[range]).ToList();
            events.AddRange(split);
            byte[]? fde = null;
            byte[]? tableMap = null;
            foreach (var bytes in split)
            {
                var type = (BinlogEventType)bytes[4];
                if (type == BinlogEventType.FormatDescription)
                {
                    fde = bytes;
                    _corpus.Add(new BinlogCase([], bytes, Verify: true, DecodeAnnotate: false));
                    continue;
                }

                byte[][] prefix = RowsEvent.IsRowsEvent(type, out _, out _, out _) && tableMap is not null ? [fde!, tableMap] : fde is null ? [] : [fde];
                _corpus.Add(new BinlogCase(prefix, bytes, Verify: true, DecodeAnnotate: type == BinlogEventType.AnnotateRows));
                if (type == BinlogEventType.TableMap)
                {
                    tableMap = bytes;
                }
            }
        }

        if (_corpus.Count == 0)
        {
            throw new ArgumentException("the capture holds no events", nameof(files));
        }

        _events = [.. events];
        _mutator = new Mutator(seed);
        Seed = seed;
    }

    /// <summary>
    /// Runs <see cref="CaptureSql"/> (then <see cref="CompressedSql"/> with log_bin_compress on) in a new database of
    /// <paramref name="server"/> and returns the binlog files written meanwhile.
    /// </summary>
    public static async Task<List<byte[]>> CaptureAsync(MariaDbServer server)
    {
        ArgumentNullException.ThrowIfNull(server);
        await server.SqlAsync("SET GLOBAL binlog_row_metadata = 'FULL'; FLUSH BINARY LOGS;").ConfigureAwait(false);
        var first = (await server.SqlAsync("SHOW MASTER STATUS;").ConfigureAwait(false)).Split('\t')[0].Trim();
        var db = await server.CreateDatabaseAsync("fuzz").ConfigureAwait(false);
        await server.SqlAsync(CaptureSql, db).ConfigureAwait(false);
        try
        {
            await server.SqlAsync("SET GLOBAL log_bin_compress = ON; SET GLOBAL log_bin_compress_min_len = 10;").ConfigureAwait(false);
            await server.SqlAsync(CompressedSql, db).ConfigureAwait(false);
        }
        finally
        {
            await server.SqlAsync("SET GLOBAL log_bin_compress = OFF; FLUSH BINARY LOGS;").ConfigureAwait(false);
        }

        var files = Directory.GetFiles(server.DataDirectory, "binlog.*")
            .Where(f => !f.EndsWith(".index", StringComparison.Ordinal) && !f.EndsWith(".state", StringComparison.Ordinal))
            .Where(f => string.CompareOrdinal(Path.GetFileName(f), first) >= 0)
            .Order(StringComparer.Ordinal)
            .ToList();
        files.RemoveAt(files.Count - 1); // the new, active file
        var bytes = new List<byte[]>();
        foreach (var file in files)
        {
            bytes.Add(await File.ReadAllBytesAsync(file).ConfigureAwait(false));
        }

        return bytes;
    }

    /// <summary>The seed of the mutations.</summary>
    public int Seed { get; }

    /// <summary>Seed cases (one per captured event).</summary>
    public int CorpusSize => _corpus.Count;

    /// <summary>Counts the captured events of a type (to check that a capture covers what it should).</summary>
    public int CountSeeds(Func<BinlogEventType, bool> type) => _corpus.Count(c => type((BinlogEventType)c.Event[4]));

    /// <summary>Runs <paramref name="inputs"/> mutated inputs; the first pass over the corpus runs the seeds unmutated.</summary>
    public FuzzReport Run(long inputs)
    {
        var report = new FuzzReport("binlog event decoder", Seed, CorpusSize);
        long n = 0;
        return InProcessFuzzLoop.Run(report, inputs, () => Next(n++), Execute, Documented, c => c.ToReproducer(), AllocationBound);
    }

    /// <summary>The exceptions the decoder documents for malformed bytes.</summary>
    public static bool Documented(Exception e) => e is BinlogFormatException;

    /// <summary>
    /// Bytes an input may allocate: MariaDB's compressed events may expand about 1100:1 (the decoder refuses more), and
    /// decoded rows box each value; beyond that, a megabyte of fixed costs.
    /// </summary>
    public static long AllocationBound(BinlogCase input) => (2048L * input.Length) + (1 << 20);

    /// <summary>Decodes a case as the CDC does: the events before it, the event, its rows and values; the outcome's name.</summary>
    public static string Execute(BinlogCase input)
    {
        var decoder = new BinlogEventDecoder(
            verifyChecksums: input.Verify,
            tableFilter: input.Filtered ? static (_, table) => table != "history" : null,
            decodeAnnotateRows: input.DecodeAnnotate);
        if (input.AsFile)
        {
            // The same bytes as a binlog file, through the file reader.
            byte[] file = [.. BinlogFileReader.Magic, .. input.Prefix.SelectMany(p => p), .. input.Event];
            foreach (var decoded in BinlogFileReader.ReadEvents(file, decoder))
            {
                Consume(decoded);
            }

            return "file-ok";
        }

        foreach (var before in input.Prefix)
        {
            Consume(decoder.Decode(before));
        }

        _ = decoder.IsExcludedRowsEvent(input.Event);
        var result = decoder.Decode(input.Event);
        return Consume(result);
    }

    private static string Consume(BinlogEvent decoded)
    {
        _ = decoded.ToString();
        if (decoded is RowsEvent { Table: not null, IsSkipped: false } rows)
        {
            var changes = rows.DecodeRows();
            foreach (var change in changes)
            {
                Touch(change.Before);
                Touch(change.After);
            }

            return "rows";
        }

        return decoded is UnknownEvent ? "unknown-event" : "ok";
    }

    private static void Touch(RowValues? values)
    {
        if (values is null)
        {
            return;
        }

        foreach (var value in values)
        {
            _ = value?.ToString();
        }
    }

    private BinlogCase Next(long n)
    {
        if (n < _corpus.Count)
        {
            return _corpus[(int)n];
        }

        var random = _mutator.Random;
        var seed = _corpus[random.Next(_corpus.Count)];
        var other = _events[random.Next(_events.Length)];
        var prefix = seed.Prefix;
        var target = random.Next(20) switch
        {
            < 2 when prefix.Length > 0 => random.Next(prefix.Length),
            _ => -1,
        };
        var original = target < 0 ? seed.Event : prefix[target];
        var mutated = random.Next(5) == 0
            ? FixFrame(MutatedBody(original))
            : _mutator.Mutate(original, other);
        if (random.Next(4) != 0)
        {
            mutated = FixFrame(mutated);
        }

        if (target >= 0)
        {
            prefix = [.. prefix];
            prefix[target] = mutated;
        }

        return new BinlogCase(prefix, target < 0 ? mutated : seed.Event, Verify: random.Next(8) != 0, DecodeAnnotate: random.Next(2) == 0)
        {
            Filtered = random.Next(6) == 0,
            AsFile = random.Next(8) == 0,
        };
    }

    // In-place damage past the header only (the event keeps its type and length).
    private byte[] MutatedBody(byte[] original)
    {
        var copy = (byte[])original.Clone();
        for (var i = 1 + _mutator.Random.Next(3); i > 0; i--)
        {
            _mutator.MutateInPlace(copy.AsSpan(0, Math.Max(copy.Length - 4, 0)), HeaderSize);
        }

        return copy;
    }

    // The header's event_size set to the length, and a CRC32 over the rest written into the last four bytes.
    private static byte[] FixFrame(byte[] bytes)
    {
        if (bytes.Length < HeaderSize + 4)
        {
            return bytes;
        }

        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(9), (uint)bytes.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(bytes.Length - 4), System.IO.Hashing.Crc32.HashToUInt32(bytes.AsSpan(0, bytes.Length - 4)));
        return bytes;
    }
}

/// <summary>One binlog fuzz input: events decoded first, then the event under test, and the decoder's options.</summary>
internal sealed record BinlogCase(byte[][] Prefix, byte[] Event, bool Verify, bool DecodeAnnotate)
{
    /// <summary>Whether the decoder filters the history table out.</summary>
    public bool Filtered { get; init; }

    /// <summary>Whether the bytes go through <see cref="BinlogFileReader"/> as a file instead.</summary>
    public bool AsFile { get; init; }

    /// <summary>Bytes of all the events.</summary>
    public int Length => Prefix.Sum(p => p.Length) + Event.Length;

    /// <summary>
    /// The case as bytes a regression test can replay (<see cref="FromReproducer"/>): a flags byte, then each event
    /// with a 4-byte little-endian length, the event under test last.
    /// </summary>
    public byte[] ToReproducer()
    {
        var output = new List<byte> { (byte)((Verify ? 1 : 0) | (DecodeAnnotate ? 2 : 0) | (Filtered ? 4 : 0) | (AsFile ? 8 : 0)) };
        foreach (var part in Prefix.Append(Event))
        {
            var length = new byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(length, part.Length);
            output.AddRange(length);
            output.AddRange(part);
        }

        return [.. output];
    }

    /// <summary>Reads a case back from <see cref="ToReproducer"/>'s bytes.</summary>
    public static BinlogCase FromReproducer(ReadOnlySpan<byte> bytes)
    {
        var flags = bytes[0];
        var parts = new List<byte[]>();
        for (var at = 1; at < bytes.Length;)
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(bytes[at..]);
            parts.Add(bytes.Slice(at + 4, length).ToArray());
            at += 4 + length;
        }

        return new BinlogCase([.. parts[..^1]], parts[^1], (flags & 1) != 0, (flags & 2) != 0)
        {
            Filtered = (flags & 4) != 0,
            AsFile = (flags & 8) != 0,
        };
    }
}
