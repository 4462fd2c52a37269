using System.Text;
using ReadHistory.MySql.Replication.Protocol;
using ReadHistory.MySql.Replication.Rows;

namespace ReadHistory.MySql.Replication.Events;

/// <summary>
/// TABLE_MAP_EVENT (type 19): maps a table id to a table definition for the rows events that follow it.
/// <code>
/// post-header:  +---------------------------------+-----------+
///               | table_id (6 bytes; 4 if the     | flags (2) |
///               | post-header length is 6)        |           |
///               +---------------------------------+-----------+
/// body:         +-----+--------+------+-----+--------+------+--------------+-----------------+
///               | len | schema | 0x00 | len | table  | 0x00 | column_count | column types    |
///               | (1) |        |      | (1) |        |      | (lenenc)     | (1 byte each)   |
///               +-----+--------+------+-----+--------+------+--------------+-----------------+
///               +------------------+------------------------+------------------+-------------------------+
///               | metadata length  | per-column metadata    | NULL bitmap      | optional metadata TLVs  |
///               | (lenenc)         | (0, 1 or 2 bytes each) | ((n + 7) / 8)    | type 1 | lenenc | value  |
///               +------------------+------------------------+------------------+-------------------------+
/// </code>
/// Optional metadata (binlog_row_metadata): 1 signedness (bit per numeric column, MSB first), 2 default charset,
/// 3 column charsets, 4 column names, 5 SET values, 6 ENUM values, 7 geometry types, 8 simple primary key,
/// 9 primary key with prefix, 10/11 ENUM and SET charsets, 12 column visibility.
/// Spec: https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Table__map__event.html
/// </summary>
public sealed class TableMapEvent : BinlogEvent
{
    private TableMapEvent(BinlogEventHeader header, ulong tableId, ushort flags, string schema, string table, TableColumn[] columns, byte[] body)
        : base(header)
    {
        TableId = tableId;
        Flags = flags;
        Schema = schema;
        Table = table;
        Columns = columns;
        ColumnsArray = columns;
        RawBody = body;
    }

    /// <summary>The id rows events refer to (valid until the next TABLE_MAP of the same id).</summary>
    public ulong TableId { get; }

    /// <summary>Table map flags.</summary>
    public ushort Flags { get; }

    /// <summary>The schema (database) name.</summary>
    public string Schema { get; }

    /// <summary>The table name.</summary>
    public string Table { get; }

    /// <summary>The columns, in table order.</summary>
    public IReadOnlyList<TableColumn> Columns { get; }

    /// <summary>Whether the optional metadata gave column names.</summary>
    public bool HasColumnNames { get; private set; }

    /// <summary>Whether the optional metadata gave signedness.</summary>
    public bool HasSignedness { get; private set; }

    /// <summary>Indexes of the primary key columns (empty when the table map does not carry them).</summary>
    public IReadOnlyList<int> PrimaryKey { get; private set; } = [];

    /// <summary>Whether rows events of this table pass the decoder's table filter.</summary>
    public bool IsIncluded { get; internal set; } = true;

    internal TableColumn[] ColumnsArray { get; }

    /// <summary>The event body the map was parsed from, to recognise a repeated identical map cheaply.</summary>
    internal byte[] RawBody { get; }

    /// <summary>The column names when known, else null.</summary>
    public IReadOnlyList<string>? ColumnNames => HasColumnNames ? ColumnsArray.Select(c => c.Name!).ToArray() : null;

    /// <summary>Parses the event body (after the common header, checksum removed).</summary>
    /// <param name="header">The common header.</param>
    /// <param name="body">The bytes after the header.</param>
    /// <param name="postHeaderLength">TABLE_MAP post-header length from FORMAT_DESCRIPTION (8, or 6 with 4-byte table ids).</param>
    public static TableMapEvent Create(BinlogEventHeader header, ReadOnlySpan<byte> body, int postHeaderLength = 8)
    {
        var reader = new BinlogSpanReader(body, "TABLE_MAP_EVENT");
        var tableId = postHeaderLength == 6 ? reader.ReadUInt32("table_id") : reader.ReadUInt48("table_id");
        var flags = reader.ReadUInt16("flags");
        if (postHeaderLength > 8)
        {
            reader.Skip(postHeaderLength - 8, "post-header");
        }

        var schemaLength = reader.ReadByte("schema name length");
        var schema = reader.ReadString(schemaLength, "schema name");
        reader.Expect(0, "the NUL after the schema name");
        var tableLength = reader.ReadByte("table name length");
        var table = reader.ReadString(tableLength, "table name");
        reader.Expect(0, "the NUL after the table name");
        var columnCount = reader.ReadLengthEncodedCount("column_count", Math.Min(reader.Remaining, 4096));
        var types = reader.ReadBytes(columnCount, "column types");
        var metadataLength = reader.ReadLengthEncodedCount("metadata length", reader.Remaining);
        var metadata = new BinlogSpanReader(reader.ReadBytes(metadataLength, "column metadata"), "TABLE_MAP_EVENT column metadata");
        var nullBitmap = reader.ReadBytes((columnCount + 7) / 8, "NULL bitmap");

        var columns = new TableColumn[columnCount];
        for (var i = 0; i < columnCount; i++)
        {
            var type = (BinlogColumnType)types[i];
            ushort meta = type switch
            {
                BinlogColumnType.Float or BinlogColumnType.Double or BinlogColumnType.Blob or BinlogColumnType.TinyBlob
                    or BinlogColumnType.MediumBlob or BinlogColumnType.LongBlob or BinlogColumnType.Geometry
                    or BinlogColumnType.Json or BinlogColumnType.Timestamp2 or BinlogColumnType.DateTime2
                    or BinlogColumnType.Time2 => metadata.ReadByte("1-byte column metadata"),
                BinlogColumnType.VarChar or BinlogColumnType.VarString => metadata.ReadUInt16("VARCHAR max length"),
                BinlogColumnType.NewDecimal or BinlogColumnType.String or BinlogColumnType.Enum or BinlogColumnType.Set
                    or BinlogColumnType.Bit => metadata.ReadUInt16("2-byte column metadata"),
                _ => 0,
            };
            columns[i] = new TableColumn(i, type, meta, (nullBitmap[i / 8] & (1 << (i % 8))) != 0);
        }

        var map = new TableMapEvent(header, tableId, flags, schema, table, columns, body.ToArray());
        while (!reader.IsAtEnd)
        {
            var fieldType = reader.ReadByte("optional metadata type");
            var value = reader.ReadLengthEncodedBytes("optional metadata value");
            map.ApplyOptionalMetadata(fieldType, value);
        }

        return map;
    }

    private void ApplyOptionalMetadata(byte fieldType, ReadOnlySpan<byte> value)
    {
        var reader = new BinlogSpanReader(value, "TABLE_MAP_EVENT optional metadata " + fieldType);
        switch (fieldType)
        {
            case 1: // SIGNEDNESS: one bit per numeric column, most significant bit first.
            {
                var numeric = 0;
                foreach (var column in ColumnsArray.Where(c => c.IsNumeric))
                {
                    if (numeric / 8 >= value.Length)
                    {
                        throw reader.Error($"a signedness bit for numeric column {column.Index}, but the bitmap has {value.Length} byte(s)");
                    }

                    column.IsUnsigned = (value[numeric / 8] & (0x80 >> (numeric % 8))) != 0;
                    column.IsSignednessKnown = true;
                    numeric++;
                }

                HasSignedness = true;
                break;
            }

            case 2: // DEFAULT_CHARSET: default collation, then (character column index, collation) pairs.
            case 10: // ENUM_AND_SET_DEFAULT_CHARSET
            {
                var targets = CharsetTargets(fieldType == 10);
                var collation = (int)reader.ReadLengthEncoded("default collation");
                foreach (var column in targets)
                {
                    column.Collation = collation;
                }

                while (!reader.IsAtEnd)
                {
                    var index = reader.ReadLengthEncoded("character column index");
                    var other = (int)reader.ReadLengthEncoded("collation");
                    if (index >= (ulong)targets.Length)
                    {
                        throw reader.Error($"a character column index below {targets.Length}, but got {index}");
                    }

                    targets[index].Collation = other;
                }

                break;
            }

            case 3: // COLUMN_CHARSET: one collation per character column.
            case 11: // ENUM_AND_SET_COLUMN_CHARSET
                foreach (var column in CharsetTargets(fieldType == 11))
                {
                    column.Collation = (int)reader.ReadLengthEncoded("column collation");
                }

                break;
            case 4: // COLUMN_NAME: one length-prefixed name per column.
                foreach (var column in ColumnsArray)
                {
                    column.Name = Encoding.UTF8.GetString(reader.ReadLengthEncodedBytes("column name"));
                }

                HasColumnNames = true;
                break;
            case 5: // SET_STR_VALUE
            case 6: // ENUM_STR_VALUE
            {
                var kind = fieldType == 5 ? BinlogColumnType.Set : BinlogColumnType.Enum;
                foreach (var column in ColumnsArray.Where(c => c.RealType == kind))
                {
                    var count = reader.ReadLengthEncodedCount("value count", reader.Remaining);
                    var values = new string[count];
                    for (var i = 0; i < count; i++)
                    {
                        values[i] = Encoding.UTF8.GetString(reader.ReadLengthEncodedBytes("value"));
                    }

                    column.EnumOrSetValues = values;
                }

                break;
            }

            case 8: // SIMPLE_PRIMARY_KEY: column indexes.
            case 9: // PRIMARY_KEY_WITH_PREFIX: (column index, prefix length) pairs.
            {
                var key = new List<int>();
                while (!reader.IsAtEnd)
                {
                    var index = reader.ReadLengthEncoded("primary key column");
                    if (index >= (ulong)ColumnsArray.Length)
                    {
                        throw reader.Error($"a primary key column below {ColumnsArray.Length}, but got {index}");
                    }

                    if (fieldType == 9)
                    {
                        reader.ReadLengthEncoded("primary key prefix length");
                    }

                    ColumnsArray[index].IsPrimaryKey = true;
                    key.Add((int)index);
                }

                PrimaryKey = key;
                break;
            }

            default: // 7 GEOMETRY_TYPE, 12 COLUMN_VISIBILITY and future fields: not needed.
                break;
        }
    }

    private TableColumn[] CharsetTargets(bool enumAndSet) =>
        enumAndSet
            ? ColumnsArray.Where(c => c.RealType is BinlogColumnType.Enum or BinlogColumnType.Set).ToArray()
            : ColumnsArray.Where(c => c.IsCharacter).ToArray();

    /// <inheritdoc />
    public override string ToString() => $"TABLE_MAP {TableId} = `{Schema}`.`{Table}` ({Columns.Count} columns)";
}
