using System.Numerics;
using ReadHistory.MySql.Replication.Protocol;
using ReadHistory.MySql.Replication.Rows;

namespace ReadHistory.MySql.Replication.Events;

/// <summary>What a rows event does to its rows.</summary>
public enum RowChangeKind
{
    /// <summary>WRITE_ROWS: rows inserted (after image only).</summary>
    Insert,

    /// <summary>UPDATE_ROWS: rows changed (before and after images).</summary>
    Update,

    /// <summary>DELETE_ROWS: rows deleted (before image only).</summary>
    Delete,
}

/// <summary>
/// WRITE/UPDATE/DELETE_ROWS_EVENT, v1 (types 23–25, MariaDB), v2 (30–32, MySQL 5.6+) and MariaDB's compressed
/// variants (166–171). The rows stay encoded; read them with <see cref="GetRowReader()"/> (no boxing) or
/// <see cref="DecodeRows"/> (boxed values).
/// <code>
/// post-header: +--------------------------+-----------+--------------------------------------------+
///              | table_id (6; 4 if the    | flags (2) | v2 only: extra_data_len (2, counts itself) |
///              | post-header length is 6) |           |          + extra data                      |
///              +--------------------------+-----------+--------------------------------------------+
/// body:        +--------------+---------------------+----------------------------------+------------------------+
///              | column_count | columns present     | UPDATE only: columns present in  | rows (zlib-compressed  |
///              | (lenenc)     | ((n + 7) / 8, LSB   | the after image ((n + 7) / 8)    | in types 166–171)      |
///              |              | first)              |                                  |                        |
///              +--------------+---------------------+----------------------------------+------------------------+
/// row image:   +------------------------------------------+-----------------------------------------+
///              | NULL bitmap, one bit per present column  | values of present, non-NULL columns,    |
///              | ((present + 7) / 8, LSB first)           | in column order                         |
///              +------------------------------------------+-----------------------------------------+
/// </code>
/// An UPDATE row is a before image followed by an after image.
/// Spec: https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Rows__event.html
/// </summary>
public sealed class RowsEvent : BinlogEvent
{
    /// <summary>STMT_END_F: the last rows event of its statement.</summary>
    public const ushort StatementEndFlag = 0x0001;

    private RowsEvent(
        BinlogEventHeader header, RowChangeKind kind, int version, bool compressed, ulong tableId, ushort flags,
        int columnCount, ReadOnlyMemory<byte> present, ReadOnlyMemory<byte> presentAfter, ReadOnlyMemory<byte> rows)
        : base(header)
    {
        Kind = kind;
        Version = version;
        IsCompressed = compressed;
        TableId = tableId;
        Flags = flags;
        ColumnCount = columnCount;
        Present = present;
        PresentAfter = presentAfter;
        RowData = rows;
    }

    /// <summary>Insert, update or delete.</summary>
    public RowChangeKind Kind { get; }

    /// <summary>1 or 2 (the event layout).</summary>
    public int Version { get; }

    /// <summary>Whether the rows came zlib-compressed (MariaDB log_bin_compress).</summary>
    public bool IsCompressed { get; }

    /// <summary>The table id, resolved through the preceding TABLE_MAP.</summary>
    public ulong TableId { get; }

    /// <summary>Rows event flags (<see cref="StatementEndFlag"/>...).</summary>
    public ushort Flags { get; }

    /// <summary>Number of columns the event describes.</summary>
    public int ColumnCount { get; }

    /// <summary>The table map, set by the decoder when it knows the table id (null otherwise).</summary>
    public TableMapEvent? Table { get; internal set; }

    /// <summary>Columns present in the first image (after for insert, before for update/delete).</summary>
    internal ReadOnlyMemory<byte> Present { get; }

    /// <summary>Columns present in the after image of an update.</summary>
    internal ReadOnlyMemory<byte> PresentAfter { get; }

    /// <summary>The encoded rows.</summary>
    internal ReadOnlyMemory<byte> RowData { get; }

    /// <summary>The encoded size of the rows.</summary>
    public int RowDataLength => RowData.Length;

    /// <summary>Maps an event type to its kind, version and compression; false when it is not a rows event.</summary>
    public static bool IsRowsEvent(BinlogEventType type, out RowChangeKind kind, out int version, out bool compressed)
    {
        (var found, kind, version, compressed) = type switch
        {
            BinlogEventType.WriteRowsV1 => (true, RowChangeKind.Insert, 1, false),
            BinlogEventType.UpdateRowsV1 => (true, RowChangeKind.Update, 1, false),
            BinlogEventType.DeleteRowsV1 => (true, RowChangeKind.Delete, 1, false),
            BinlogEventType.WriteRowsV2 => (true, RowChangeKind.Insert, 2, false),
            BinlogEventType.UpdateRowsV2 => (true, RowChangeKind.Update, 2, false),
            BinlogEventType.DeleteRowsV2 => (true, RowChangeKind.Delete, 2, false),
            BinlogEventType.WriteRowsCompressedV1 => (true, RowChangeKind.Insert, 1, true),
            BinlogEventType.UpdateRowsCompressedV1 => (true, RowChangeKind.Update, 1, true),
            BinlogEventType.DeleteRowsCompressedV1 => (true, RowChangeKind.Delete, 1, true),
            BinlogEventType.WriteRowsCompressed => (true, RowChangeKind.Insert, 2, true),
            BinlogEventType.UpdateRowsCompressed => (true, RowChangeKind.Update, 2, true),
            BinlogEventType.DeleteRowsCompressed => (true, RowChangeKind.Delete, 2, true),
            _ => (false, RowChangeKind.Insert, 0, false),
        };
        return found;
    }

    /// <summary>Reads only the table id of a rows event body (to skip filtered tables without decoding).</summary>
    public static ulong PeekTableId(ReadOnlySpan<byte> body, int postHeaderLength)
    {
        var reader = new BinlogSpanReader(body, "rows event");
        return postHeaderLength == 6 ? reader.ReadUInt32("table_id") : reader.ReadUInt48("table_id");
    }

    /// <summary>
    /// Parses the event body (after the common header, checksum removed). The rows are not copied: the event keeps
    /// a reference to <paramref name="body"/> (or to the decompressed rows).
    /// </summary>
    /// <param name="header">The common header (its type says insert/update/delete, v1/v2, compressed).</param>
    /// <param name="body">The bytes after the header.</param>
    /// <param name="postHeaderLength">The post-header length from FORMAT_DESCRIPTION, or -1 for the type's default (8 for v1, 10 for v2).</param>
    public static RowsEvent Create(BinlogEventHeader header, ReadOnlyMemory<byte> body, int postHeaderLength = -1)
    {
        if (!IsRowsEvent(header.EventType, out var kind, out var version, out var compressed))
        {
            throw new ArgumentException($"{header.EventType} is not a rows event type.", nameof(header));
        }

        if (postHeaderLength < 0)
        {
            postHeaderLength = version == 2 ? 10 : 8;
        }

        var span = body.Span;
        var reader = new BinlogSpanReader(span, kind switch { RowChangeKind.Insert => "WRITE_ROWS_EVENT", RowChangeKind.Update => "UPDATE_ROWS_EVENT", _ => "DELETE_ROWS_EVENT" });
        var tableId = postHeaderLength == 6 ? reader.ReadUInt32("table_id") : reader.ReadUInt48("table_id");
        var flags = reader.ReadUInt16("flags");
        if (postHeaderLength >= 10)
        {
            var extraLength = reader.ReadUInt16("extra_data_len");
            if (extraLength < 2)
            {
                throw reader.Error($"extra_data_len of at least 2 (it counts itself), but it is {extraLength}");
            }

            reader.Skip(extraLength - 2, "extra data");
            reader.Skip(postHeaderLength - 10, "post-header");
        }
        else if (postHeaderLength > 8)
        {
            reader.Skip(postHeaderLength - 8, "post-header");
        }

        var columnCount = reader.ReadLengthEncodedCount("column_count", Math.Min(reader.Remaining * 8, 4096));
        var bitmapLength = (columnCount + 7) / 8;
        var presentStart = reader.Position;
        reader.Skip(bitmapLength, "columns-present bitmap");
        var present = body.Slice(presentStart, bitmapLength);
        var presentAfter = ReadOnlyMemory<byte>.Empty;
        if (kind == RowChangeKind.Update)
        {
            var afterStart = reader.Position;
            reader.Skip(bitmapLength, "columns-present bitmap of the after image");
            presentAfter = body.Slice(afterStart, bitmapLength);
        }

        var rows = body[reader.Position..];
        if (compressed)
        {
            rows = MariaDbCompression.Decompress(rows.Span, header.EventType + " event");
        }

        return new RowsEvent(header, kind, version, compressed, tableId, flags, columnCount, present, presentAfter, rows);
    }

    /// <summary>A rows event of a table the filter excludes: header, kind and table only; no rows.</summary>
    internal static RowsEvent CreateSkipped(BinlogEventHeader header, ulong tableId, TableMapEvent table)
    {
        IsRowsEvent(header.EventType, out var kind, out var version, out var compressed);
        return new RowsEvent(header, kind, version, compressed, tableId, 0, table.ColumnsArray.Length, default, default, default)
        {
            Table = table,
            IsSkipped = true,
        };
    }

    /// <summary>Whether the decoder skipped the rows because the table filter excludes the table.</summary>
    public bool IsSkipped { get; private init; }

    /// <summary>
    /// A reader over the rows that decodes values without boxing. Allocates one small offsets array per call;
    /// use <see cref="GetRowReader(Span{int})"/> to supply it.
    /// </summary>
    public BinlogRowReader GetRowReader() => GetRowReader(new int[ColumnCount * 2]);

    /// <summary>A reader over the rows using <paramref name="scratch"/> (at least 2 × <see cref="ColumnCount"/> ints) for column offsets.</summary>
    public BinlogRowReader GetRowReader(Span<int> scratch)
    {
        var table = Table ?? throw new InvalidOperationException(
            $"{Header.EventType} event for table id {TableId} has no TABLE_MAP_EVENT before it; its rows cannot be decoded.");
        if (table.ColumnsArray.Length != ColumnCount)
        {
            throw new BinlogFormatException(
                $"{Header.EventType} event: expected {table.ColumnsArray.Length} columns as TABLE_MAP_EVENT of `{table.Schema}`.`{table.Table}` says, but it has {ColumnCount}.");
        }

        if (scratch.Length < ColumnCount * 2)
        {
            throw new ArgumentException($"scratch needs at least {ColumnCount * 2} ints.", nameof(scratch));
        }

        return new BinlogRowReader(this, table, scratch[..ColumnCount], scratch.Slice(ColumnCount, ColumnCount));
    }

    /// <summary>Decodes every row into boxed values (see <see cref="RowImage.GetValue"/> for the types).</summary>
    public IReadOnlyList<RowChange> DecodeRows()
    {
        var table = Table ?? throw new InvalidOperationException(
            $"{Header.EventType} event for table id {TableId} has no TABLE_MAP_EVENT before it; its rows cannot be decoded.");
        var list = new List<RowChange>();
        var reader = GetRowReader();
        while (reader.Read())
        {
            var before = Kind == RowChangeKind.Insert ? null : reader.Before.ToValues();
            var after = Kind == RowChangeKind.Delete ? null : reader.After.ToValues();
            list.Add(new RowChange(table, Kind, before, after));
        }

        return list;
    }

    /// <summary>Counts the rows by walking them (no values decoded).</summary>
    public int CountRows()
    {
        var reader = GetRowReader();
        var count = 0;
        while (reader.Read())
        {
            count++;
        }

        return count;
    }

    internal static int PopCount(ReadOnlySpan<byte> bitmap, int bits)
    {
        var count = 0;
        for (var i = 0; i < bitmap.Length; i++)
        {
            var b = bitmap[i];
            if (i == bitmap.Length - 1 && bits % 8 != 0)
            {
                b &= (byte)((1 << (bits % 8)) - 1);
            }

            count += BitOperations.PopCount(b);
        }

        return count;
    }

    /// <inheritdoc />
    public override string ToString() => $"{Kind.ToString().ToUpperInvariant()}_ROWS v{Version} table {TableId} ({RowData.Length} bytes)";
}
