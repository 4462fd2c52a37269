using System.Buffers.Binary;
using ReadHistory.MySql.Replication.Events;

namespace ReadHistory.MySql.Replication;

/// <summary>
/// Turns raw events (common header + body + optional checksum, as in a binlog file or after the 0x00 of a
/// replication packet) into <see cref="BinlogEvent"/>s. Keeps the state the format needs: the last
/// FORMAT_DESCRIPTION (post-header lengths, checksum algorithm) and the table maps by id. Not thread-safe.
/// </summary>
public sealed class BinlogEventDecoder
{
    private readonly Dictionary<ulong, TableMapEvent> _tables = [];
    private readonly Func<string, string, bool>? _tableFilter;
    private readonly bool _decodeAnnotateRows;
    private BinlogChecksumAlgorithm _checksumBeforeDescription;

    /// <summary>Creates a decoder.</summary>
    /// <param name="verifyChecksums">Check each event's CRC32 when the stream has checksums (default true).</param>
    /// <param name="tableFilter">
    /// (schema, table) → whether to keep rows events of that table; rows events of other tables come out as
    /// <see cref="RowsEvent"/>s whose <see cref="TableMapEvent.IsIncluded"/> is false and whose rows are not read.
    /// </param>
    /// <param name="decodeAnnotateRows">
    /// Decode MariaDB ANNOTATE_ROWS events (the statement text behind rows events) into <see cref="AnnotateRowsEvent"/>;
    /// by default they are skipped as <see cref="UnknownEvent"/>s, which saves copying every statement's text.
    /// </param>
    /// <param name="checksumBeforeDescription">
    /// The checksum algorithm to assume for events before the first FORMAT_DESCRIPTION (the artificial ROTATE that
    /// opens a dump); <see cref="BinlogChecksumAlgorithm.Undefined"/> detects it from the event's bytes.
    /// </param>
    public BinlogEventDecoder(
        bool verifyChecksums = true,
        Func<string, string, bool>? tableFilter = null,
        bool decodeAnnotateRows = false,
        BinlogChecksumAlgorithm checksumBeforeDescription = BinlogChecksumAlgorithm.Undefined)
    {
        _decodeAnnotateRows = decodeAnnotateRows;
        VerifyChecksums = verifyChecksums;
        _tableFilter = tableFilter;
        _checksumBeforeDescription = checksumBeforeDescription;
    }

    /// <summary>Whether CRC32 checksums are verified.</summary>
    public bool VerifyChecksums { get; }

    /// <summary>The last FORMAT_DESCRIPTION seen, if any.</summary>
    public FormatDescriptionEvent? FormatDescription { get; private set; }

    /// <summary>The checksum algorithm in force.</summary>
    public BinlogChecksumAlgorithm Checksum => FormatDescription?.ChecksumAlgorithm is { } algorithm and not BinlogChecksumAlgorithm.Undefined
        ? algorithm
        : _checksumBeforeDescription;

    /// <summary>The table map of an id, if one was seen.</summary>
    public TableMapEvent? GetTable(ulong tableId) => _tables.GetValueOrDefault(tableId);

    /// <summary>Forgets the table maps (after a reconnect, the server sends them again).</summary>
    public void ResetTables() => _tables.Clear();

    /// <summary>
    /// Decodes one event. Rows events keep a reference to <paramref name="eventBytes"/> (copy it first when the
    /// buffer is reused). Throws <see cref="BinlogChecksumException"/> on a checksum mismatch and
    /// <see cref="BinlogFormatException"/> on malformed bytes.
    /// </summary>
    public BinlogEvent Decode(ReadOnlyMemory<byte> eventBytes)
    {
        var span = eventBytes.Span;
        var header = BinlogEventHeader.Create(span);
        if (header.EventSize != span.Length)
        {
            throw new BinlogFormatException(
                $"{header.EventType} event: expected {header.EventSize} bytes as its header says, but {span.Length} arrived.");
        }

        if (header.EventType == BinlogEventType.FormatDescription)
        {
            var description = FormatDescriptionEvent.Create(header, span[BinlogEventHeader.Size..]);
            if (description.ChecksumAlgorithm == BinlogChecksumAlgorithm.Crc32)
            {
                CheckCrc(span, header);
            }

            FormatDescription = description;
            return description;
        }

        var algorithm = Checksum;
        if (algorithm == BinlogChecksumAlgorithm.Undefined)
        {
            // Before any FORMAT_DESCRIPTION (the artificial ROTATE of a dump): the checksum is there if it matches.
            algorithm = span.Length >= BinlogEventHeader.Size + 4 && ComputeCrc(span) == StoredCrc(span)
                ? BinlogChecksumAlgorithm.Crc32
                : BinlogChecksumAlgorithm.None;
            _checksumBeforeDescription = algorithm;
        }

        var bodyEnd = span.Length;
        if (algorithm == BinlogChecksumAlgorithm.Crc32)
        {
            if (span.Length < BinlogEventHeader.Size + 4)
            {
                throw new BinlogFormatException(
                    $"{header.EventType} event: expected a 4-byte CRC32 after the 19-byte header, but the event has {span.Length} bytes.");
            }

            if (VerifyChecksums)
            {
                CheckCrc(span, header);
            }

            bodyEnd -= 4;
        }

        var bodyMemory = eventBytes[BinlogEventHeader.Size..bodyEnd];
        var body = bodyMemory.Span;
        switch (header.EventType)
        {
            case BinlogEventType.Rotate:
                return RotateEvent.Create(header, body);
            case BinlogEventType.Query:
                return QueryEvent.Create(header, body);
            case BinlogEventType.QueryCompressed:
                return QueryEvent.Create(header, body, compressed: true);
            case BinlogEventType.Xid:
                return XidEvent.Create(header, body);
            case BinlogEventType.MariaDbGtid:
                return MariaDbGtidEvent.Create(header, body);
            case BinlogEventType.MariaDbGtidList:
                return MariaDbGtidListEvent.Create(header, body);
            case BinlogEventType.MySqlGtid:
            case BinlogEventType.MySqlAnonymousGtid:
                return MySqlGtidEvent.Create(header, body);
            case BinlogEventType.Heartbeat:
            case BinlogEventType.HeartbeatV2:
                return HeartbeatEvent.Create(header, body);
            case BinlogEventType.BinlogCheckpoint:
                return BinlogCheckpointEvent.Create(header, body);
            case BinlogEventType.AnnotateRows when _decodeAnnotateRows:
                return AnnotateRowsEvent.Create(header, body);
            case BinlogEventType.Stop:
                return StopEvent.Create(header, body);
            case BinlogEventType.TableMap:
                return DecodeTableMap(header, body);
            default:
                if (RowsEvent.IsRowsEvent(header.EventType, out _, out _, out _))
                {
                    return DecodeRows(header, bodyMemory);
                }

                return new UnknownEvent(header, body.Length);
        }
    }

    /// <summary>Whether a rows event (given its raw bytes) belongs to a table the filter excludes; lets a caller skip copying it.</summary>
    public bool IsExcludedRowsEvent(ReadOnlySpan<byte> eventBytes)
    {
        if (_tableFilter is null || eventBytes.Length < BinlogEventHeader.Size + 6)
        {
            return false;
        }

        var type = (BinlogEventType)eventBytes[4];
        if (!RowsEvent.IsRowsEvent(type, out _, out _, out _))
        {
            return false;
        }

        var tableId = RowsEvent.PeekTableId(eventBytes[BinlogEventHeader.Size..], FormatDescription?.PostHeaderLength(type) ?? -1);
        return _tables.TryGetValue(tableId, out var table) && !table.IsIncluded;
    }

    private TableMapEvent DecodeTableMap(BinlogEventHeader header, ReadOnlySpan<byte> body)
    {
        var postHeaderLength = FormatDescription?.PostHeaderLength(BinlogEventType.TableMap) ?? 8;
        var tableId = postHeaderLength == 6
            ? (body.Length >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(body) : ulong.MaxValue)
            : (body.Length >= 6 ? BinaryPrimitives.ReadUInt32LittleEndian(body) | ((ulong)BinaryPrimitives.ReadUInt16LittleEndian(body[4..]) << 32) : ulong.MaxValue);
        if (_tables.TryGetValue(tableId, out var known) && body.SequenceEqual(known.RawBody))
        {
            // The same table map again (one per transaction): reuse it, nothing to parse or allocate.
            return known;
        }

        var map = TableMapEvent.Create(header, body, postHeaderLength);
        map.IsIncluded = _tableFilter?.Invoke(map.Schema, map.Table) ?? true;
        _tables[map.TableId] = map;
        return map;
    }

    private RowsEvent DecodeRows(BinlogEventHeader header, ReadOnlyMemory<byte> body)
    {
        var postHeaderLength = FormatDescription?.PostHeaderLength(header.EventType) ?? -1;
        var tableId = RowsEvent.PeekTableId(body.Span, postHeaderLength);
        if (_tables.TryGetValue(tableId, out var table) && !table.IsIncluded)
        {
            // Filtered out: the rows are never decoded (nor decompressed).
            return RowsEvent.CreateSkipped(header, tableId, table);
        }

        var rows = RowsEvent.Create(header, body, postHeaderLength);
        rows.Table = table;
        return rows;
    }

    private static uint StoredCrc(ReadOnlySpan<byte> span) => BinaryPrimitives.ReadUInt32LittleEndian(span[^4..]);

    private static uint ComputeCrc(ReadOnlySpan<byte> span)
    {
        var covered = span[..^4];
        if ((BinlogEventType)span[4] == BinlogEventType.FormatDescription && (span[17] & BinlogEventHeader.BinlogInUseFlag) != 0)
        {
            // FORMAT_DESCRIPTION is checksummed without LOG_EVENT_BINLOG_IN_USE_F (set while the file is open).
            var crc = new System.IO.Hashing.Crc32();
            crc.Append(covered[..17]);
            crc.Append([(byte)(span[17] & ~BinlogEventHeader.BinlogInUseFlag)]);
            crc.Append(covered[18..]);
            return crc.GetCurrentHashAsUInt32();
        }

        // binlog_checksum=CRC32 is CRC-32/ISO-HDLC, the IEEE polynomial System.IO.Hashing.Crc32 computes.
        return System.IO.Hashing.Crc32.HashToUInt32(covered);
    }

    private static void CheckCrc(ReadOnlySpan<byte> span, BinlogEventHeader header)
    {
        if (span.Length < BinlogEventHeader.Size + 4)
        {
            throw new BinlogFormatException($"{header.EventType} event: expected a 4-byte CRC32, but the event has {span.Length} bytes.");
        }

        var stored = StoredCrc(span);
        var computed = ComputeCrc(span);
        if (stored != computed)
        {
            throw new BinlogChecksumException(
                $"{header.EventType} event ending at position {header.LogPosition}: CRC32 mismatch, the event says 0x{stored:X8} but its bytes give 0x{computed:X8} (corrupt event).");
        }
    }
}
