using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using ReadHistory.MySql.Replication.Events;

namespace ReadHistory.MySql.Replication.Rows;

/// <summary>
/// Walks the rows of a <see cref="RowsEvent"/> without allocating: <see cref="Read"/> moves to the next row and
/// records where each column's value starts; <see cref="Before"/> / <see cref="After"/> read them (as UInt64,
/// DateTime... without boxing, or boxed with <see cref="RowImage.GetValue"/>).
/// <code>
/// var reader = rowsEvent.GetRowReader();
/// while (reader.Read())
/// {
///     ulong userId = reader.Current.GetUInt64(0);
/// }
/// </code>
/// Malformed rows throw <see cref="BinlogFormatException"/> naming the table, column and what was expected.
/// </summary>
public ref struct BinlogRowReader
{
    /// <summary>Offset marker: the column's value is NULL.</summary>
    internal const int NullOffset = -1;

    /// <summary>Offset marker: the column is not in this image (partial row image).</summary>
    internal const int AbsentOffset = -2;

    private readonly ReadOnlySpan<byte> _data;
    private readonly TableMapEvent _table;
    private readonly RowChangeKind _kind;
    private readonly ReadOnlySpan<byte> _present;
    private readonly ReadOnlySpan<byte> _presentAfter;
    private readonly int _presentCount;
    private readonly int _presentAfterCount;
    private readonly Span<int> _first;
    private readonly Span<int> _second;
    private int _position;
    private int _rowIndex;

    internal BinlogRowReader(RowsEvent rows, TableMapEvent table, Span<int> first, Span<int> second)
    {
        _data = rows.RowData.Span;
        _table = table;
        _kind = rows.Kind;
        _present = rows.Present.Span;
        _presentAfter = rows.PresentAfter.Span;
        _presentCount = RowsEvent.PopCount(_present, rows.ColumnCount);
        _presentAfterCount = _kind == RowChangeKind.Update ? RowsEvent.PopCount(_presentAfter, rows.ColumnCount) : 0;
        _first = first;
        _second = second;
        _position = 0;
        _rowIndex = -1;
    }

    /// <summary>The table the rows belong to.</summary>
    public readonly TableMapEvent Table => _table;

    /// <summary>Insert, update or delete.</summary>
    public readonly RowChangeKind Kind => _kind;

    /// <summary>The 0-based index of the current row.</summary>
    public readonly int RowIndex => _rowIndex;

    /// <summary>The before image (update and delete).</summary>
    public readonly RowImage Before => _kind == RowChangeKind.Insert
        ? throw new InvalidOperationException("an insert has no before image")
        : new RowImage(_data, _first, _table);

    /// <summary>The after image (insert and update).</summary>
    public readonly RowImage After => _kind switch
    {
        RowChangeKind.Insert => new RowImage(_data, _first, _table),
        RowChangeKind.Update => new RowImage(_data, _second, _table),
        _ => throw new InvalidOperationException("a delete has no after image"),
    };

    /// <summary>The image that describes the row now: after for insert and update, before for delete.</summary>
    public readonly RowImage Current => new(_data, _kind == RowChangeKind.Update ? _second : _first, _table);

    /// <summary>Moves to the next row; false at the end.</summary>
    public bool Read()
    {
        if (_position >= _data.Length)
        {
            return false;
        }

        _rowIndex++;
        var start = _position;
        _position = ParseImage(_present, _presentCount, _first, _position);
        if (_kind == RowChangeKind.Update)
        {
            _position = ParseImage(_presentAfter, _presentAfterCount, _second, _position);
        }

        if (_position == start)
        {
            // No column present in any image: a row takes no bytes, so the bytes left would never be consumed.
            throw new BinlogFormatException(
                $"row {_rowIndex} of `{_table.Schema}`.`{_table.Table}`: expected at least one column present in the rows event's bitmap, but none is, and {_data.Length - start} byte(s) of rows remain.");
        }

        return true;
    }

    private readonly int ParseImage(ReadOnlySpan<byte> present, int presentCount, Span<int> offsets, int position)
    {
        var columns = _table.ColumnsArray;
        var nullBytes = (presentCount + 7) >> 3;
        if (nullBytes > _data.Length - position)
        {
            throw Truncated("the NULL bitmap", nullBytes, position);
        }

        var nulls = _data.Slice(position, nullBytes);
        position += nullBytes;
        var presentIndex = 0;
        for (var i = 0; i < columns.Length; i++)
        {
            if ((present[i >> 3] & (1 << (i & 7))) == 0)
            {
                offsets[i] = AbsentOffset;
                continue;
            }

            if ((nulls[presentIndex >> 3] & (1 << (presentIndex & 7))) != 0)
            {
                offsets[i] = NullOffset;
                presentIndex++;
                continue;
            }

            presentIndex++;
            offsets[i] = position;
            var column = columns[i];
            var length = column.FixedLength;
            if (length < 0)
            {
                var prefix = column.LengthPrefixBytes;
                if (prefix > _data.Length - position)
                {
                    throw Truncated($"the length of column {Describe(column)}", prefix, position);
                }

                length = prefix + (int)ReadLength(_data.Slice(position, prefix), prefix);
                if (length < prefix)
                {
                    throw new BinlogFormatException($"row {_rowIndex} of `{_table.Schema}`.`{_table.Table}`: column {Describe(column)} has a length over 2 GiB.");
                }
            }

            if (length > _data.Length - position)
            {
                throw Truncated($"the value of column {Describe(column)}", length, position);
            }

            position += length;
        }

        return position;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static uint ReadLength(ReadOnlySpan<byte> bytes, int count) => count switch
    {
        1 => bytes[0],
        2 => BinaryPrimitives.ReadUInt16LittleEndian(bytes),
        3 => (uint)(bytes[0] | (bytes[1] << 8) | (bytes[2] << 16)),
        _ => BinaryPrimitives.ReadUInt32LittleEndian(bytes),
    };

    private static string Describe(TableColumn column) => column.Name is null
        ? $"#{column.Index} ({column.RealType})"
        : $"`{column.Name}` ({column.RealType})";

    private readonly BinlogFormatException Truncated(string what, int needed, int position) =>
        new($"row {_rowIndex} of `{_table.Schema}`.`{_table.Table}`: expected {needed} byte(s) for {what} at byte {position}, but only {_data.Length - position} remain (truncated or corrupt rows event).");
}
