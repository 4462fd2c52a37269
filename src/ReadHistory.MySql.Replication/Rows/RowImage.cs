using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text;
using ReadHistory.MySql.Replication.Events;

namespace ReadHistory.MySql.Replication.Rows;

/// <summary>
/// One row image (before or after) of the current row of a <see cref="BinlogRowReader"/>. Typed getters read
/// without boxing; <see cref="GetValue"/> boxes. Valid until the reader moves.
/// </summary>
public readonly ref struct RowImage
{
    private static readonly Encoding Latin1 = Encoding.Latin1;
    private readonly ReadOnlySpan<byte> _data;
    private readonly ReadOnlySpan<int> _offsets;
    private readonly TableMapEvent _table;

    internal RowImage(ReadOnlySpan<byte> data, ReadOnlySpan<int> offsets, TableMapEvent table)
    {
        _data = data;
        _offsets = offsets;
        _table = table;
    }

    /// <summary>Number of columns of the table.</summary>
    public int ColumnCount => _offsets.Length;

    /// <summary>Whether the column is in this image (false for columns left out of a partial image).</summary>
    public bool IsPresent(int column) => _offsets[column] != BinlogRowReader.AbsentOffset;

    /// <summary>Whether the column is NULL (or absent from the image).</summary>
    public bool IsNull(int column) => _offsets[column] < 0;

    /// <summary>
    /// An integer column (TINYINT..BIGINT, YEAR, BIT, ENUM, SET) as UInt64: zero-extended from its stored width,
    /// which is the value for UNSIGNED columns. Throws for NULL and other types.
    /// </summary>
    public ulong GetUInt64(int column)
    {
        var offset = ValueOffset(column);
        var info = _table.ColumnsArray[column];
        var d = _data[offset..];
        return info.RealType switch
        {
            BinlogColumnType.LongLong => BinaryPrimitives.ReadUInt64LittleEndian(d),
            BinlogColumnType.Long => BinaryPrimitives.ReadUInt32LittleEndian(d),
            BinlogColumnType.Short => BinaryPrimitives.ReadUInt16LittleEndian(d),
            BinlogColumnType.Int24 => (uint)(d[0] | (d[1] << 8) | (d[2] << 16)),
            BinlogColumnType.Tiny => d[0],
            BinlogColumnType.Year => d[0] == 0 ? 0UL : 1900UL + d[0],
            BinlogColumnType.Bit => ReadBigEndian(d[..info.FixedLength]),
            BinlogColumnType.Enum or BinlogColumnType.Set => ReadLittleEndian(d[..info.FixedLength]),
            _ => throw WrongType(column, "an unsigned integer"),
        };
    }

    /// <summary>An integer column as Int64, sign-extended from its stored width (the value for signed columns).</summary>
    public long GetInt64(int column)
    {
        var offset = ValueOffset(column);
        var info = _table.ColumnsArray[column];
        var d = _data[offset..];
        return info.RealType switch
        {
            BinlogColumnType.LongLong => BinaryPrimitives.ReadInt64LittleEndian(d),
            BinlogColumnType.Long => BinaryPrimitives.ReadInt32LittleEndian(d),
            BinlogColumnType.Short => BinaryPrimitives.ReadInt16LittleEndian(d),
            BinlogColumnType.Int24 => ((d[0] | (d[1] << 8) | (d[2] << 16)) << 8) >> 8,
            BinlogColumnType.Tiny => (sbyte)d[0],
            _ => (long)GetUInt64(column),
        };
    }

    /// <summary>FLOAT or DOUBLE (or an integer) as a double.</summary>
    public double GetDouble(int column)
    {
        var offset = ValueOffset(column);
        return _table.ColumnsArray[column].RealType switch
        {
            BinlogColumnType.Double => BinaryPrimitives.ReadDoubleLittleEndian(_data[offset..]),
            BinlogColumnType.Float => BinaryPrimitives.ReadSingleLittleEndian(_data[offset..]),
            _ => throw WrongType(column, "FLOAT or DOUBLE"),
        };
    }

    /// <summary>A DECIMAL column; throws <see cref="OverflowException"/> when it does not fit System.Decimal.</summary>
    public decimal GetDecimal(int column)
    {
        var info = Column(column, BinlogColumnType.NewDecimal, "DECIMAL");
        var value = DecodeDecimal(_data.Slice(ValueOffset(column), info.FixedLength), info.Precision, info.Scale);
        return value as decimal? ?? throw new OverflowException($"DECIMAL value {value} of column {column} does not fit System.Decimal.");
    }

    /// <summary>
    /// DATETIME, DATETIME2, DATE (Kind Unspecified) or TIMESTAMP, TIMESTAMP2 (Kind Utc). Throws
    /// <see cref="InvalidCastException"/> for zero dates ("0000-00-00").
    /// </summary>
    public DateTime GetDateTime(int column)
    {
        var info = _table.ColumnsArray[column];
        if (info.RealType == BinlogColumnType.DateTime2)
        {
            // The hot path (DATETIME(n) columns): no boxing.
            var d = _data.Slice(ValueOffset(column), info.FixedLength);
            var packed = (long)ReadBigEndian(d[..5]) - 0x80_0000_0000L;
            var ymd = packed >> 17;
            var ym = ymd >> 5;
            var hms = packed & 0x1FFFF;
            if (TryMakeDateTime((int)(ym / 13), (int)(ym % 13), (int)(ymd & 31), (int)(hms >> 12), (int)((hms >> 6) & 63), (int)(hms & 63), Fraction(d[5..], info.FractionalDigits), out var dateTime))
            {
                return dateTime;
            }
        }

        var value = DecodeTemporal(column);
        return value as DateTime? ?? throw new InvalidCastException($"column {column} holds '{value}', which is not a valid DateTime.");
    }

    /// <summary>TIME or TIME2 as a TimeSpan (may be negative, up to ±838:59:59).</summary>
    public TimeSpan GetTimeSpan(int column)
    {
        var value = DecodeTemporal(column);
        return value as TimeSpan? ?? throw WrongType(column, "TIME");
    }

    /// <summary>A CHAR/VARCHAR/TEXT column (or ENUM with known values) as text.</summary>
    public string GetString(int column)
    {
        var info = _table.ColumnsArray[column];
        if (info.RealType == BinlogColumnType.Enum && info.EnumOrSetValues is { } values)
        {
            var index = (int)GetUInt64(column);
            return index == 0 ? string.Empty : index <= values.Count ? values[index - 1] : throw new BinlogFormatException(
                $"ENUM column {column} of `{_table.Schema}`.`{_table.Table}` holds index {index}, but the table map lists {values.Count} values.");
        }

        return Decode(GetBytes(column), info);
    }

    /// <summary>
    /// The value's bytes without the length prefix: the content of strings and blobs, the stored bytes of other
    /// types. Throws for NULL.
    /// </summary>
    public ReadOnlySpan<byte> GetBytes(int column)
    {
        var offset = ValueOffset(column);
        var info = _table.ColumnsArray[column];
        if (info.FixedLength >= 0)
        {
            return _data.Slice(offset, info.FixedLength);
        }

        var prefix = info.LengthPrefixBytes;
        var length = (int)BinlogRowReader.ReadLength(_data[offset..], prefix);
        return _data.Slice(offset + prefix, length);
    }

    /// <summary>
    /// The value boxed: null for NULL or absent; integers as sbyte/short/int/long (or byte/ushort/uint/ulong when
    /// the table map says UNSIGNED; MEDIUMINT as int/uint); FLOAT float; DOUBLE double; DECIMAL decimal (string
    /// when beyond System.Decimal); YEAR int; DATE/DATETIME DateTime; TIMESTAMP DateTime (UTC); TIME TimeSpan;
    /// zero or invalid dates as their MySQL text ("0000-00-00 00:00:00"); CHAR/VARCHAR string (byte[] when the
    /// collation is binary; BINARY(n) padded back to n bytes); BLOB/TEXT byte[] (string when the table map gives a non-binary collation); ENUM int
    /// (1-based index); SET and BIT ulong; JSON and GEOMETRY byte[].
    /// </summary>
    public object? GetValue(int column)
    {
        if (_offsets[column] < 0)
        {
            return null;
        }

        var info = _table.ColumnsArray[column];
        var signed = !(info.IsSignednessKnown && info.IsUnsigned);
        switch (info.RealType)
        {
            case BinlogColumnType.Tiny:
                return signed ? (sbyte)GetInt64(column) : (byte)GetUInt64(column);
            case BinlogColumnType.Short:
                return signed ? (short)GetInt64(column) : (ushort)GetUInt64(column);
            case BinlogColumnType.Int24:
            case BinlogColumnType.Long:
                return signed ? (int)GetInt64(column) : (uint)GetUInt64(column);
            case BinlogColumnType.LongLong:
                return signed ? GetInt64(column) : GetUInt64(column);
            case BinlogColumnType.Float:
                return (float)GetDouble(column);
            case BinlogColumnType.Double:
                return GetDouble(column);
            case BinlogColumnType.NewDecimal:
                return DecodeDecimal(_data.Slice(_offsets[column], info.FixedLength), info.Precision, info.Scale);
            case BinlogColumnType.Year:
                return (int)GetUInt64(column);
            case BinlogColumnType.Date:
            case BinlogColumnType.NewDate:
            case BinlogColumnType.DateTime:
            case BinlogColumnType.DateTime2:
            case BinlogColumnType.Timestamp:
            case BinlogColumnType.Timestamp2:
            case BinlogColumnType.Time:
            case BinlogColumnType.Time2:
                return DecodeTemporal(column);
            case BinlogColumnType.Enum:
                return (int)GetUInt64(column);
            case BinlogColumnType.Set:
            case BinlogColumnType.Bit:
                return GetUInt64(column);
            case BinlogColumnType.String:
            case BinlogColumnType.VarChar:
            case BinlogColumnType.VarString:
            case BinlogColumnType.Blob:
            case BinlogColumnType.TinyBlob:
            case BinlogColumnType.MediumBlob:
            case BinlogColumnType.LongBlob:
                if (info.IsText)
                {
                    return Decode(GetBytes(column), info);
                }

                if (info.RealType == BinlogColumnType.String && info.Collation == TableColumn.BinaryCollation)
                {
                    // BINARY(n) is logged without its trailing 0x00 padding: put it back.
                    var stored = GetBytes(column);
                    var padded = new byte[Math.Max(info.MaxLength, stored.Length)];
                    stored.CopyTo(padded);
                    return padded;
                }

                return GetBytes(column).ToArray();
            case BinlogColumnType.Null:
                return null;
            default:
                return GetBytes(column).ToArray();
        }
    }

    /// <summary>Every column boxed (see <see cref="GetValue"/>), with which columns are present.</summary>
    public RowValues ToValues()
    {
        var values = new object?[_offsets.Length];
        bool[]? absent = null;
        for (var i = 0; i < values.Length; i++)
        {
            if (_offsets[i] == BinlogRowReader.AbsentOffset)
            {
                (absent ??= new bool[values.Length])[i] = true;
                continue;
            }

            values[i] = GetValue(i);
        }

        return new RowValues(values, absent, _table);
    }

    private int ValueOffset(int column)
    {
        var offset = _offsets[column];
        if (offset < 0)
        {
            throw new InvalidOperationException(offset == BinlogRowReader.NullOffset
                ? $"column {column} of `{_table.Schema}`.`{_table.Table}` is NULL; check IsNull first."
                : $"column {column} of `{_table.Schema}`.`{_table.Table}` is not in this row image (partial image).");
        }

        return offset;
    }

    private TableColumn Column(int column, BinlogColumnType type, string expected) =>
        _table.ColumnsArray[column] is var info && info.RealType == type ? info : throw WrongType(column, expected);

    private InvalidCastException WrongType(int column, string expected) =>
        new($"column {column} of `{_table.Schema}`.`{_table.Table}` is {_table.ColumnsArray[column].RealType}, not {expected}.");

    private object DecodeTemporal(int column)
    {
        var offset = ValueOffset(column);
        var info = _table.ColumnsArray[column];
        var d = _data.Slice(offset, info.FixedLength);
        switch (info.RealType)
        {
            case BinlogColumnType.DateTime2:
            {
                var packed = (long)ReadBigEndian(d[..5]) - 0x80_0000_0000L;
                var micro = Fraction(d[5..], info.FractionalDigits);
                var ymd = packed >> 17;
                var ym = ymd >> 5;
                var hms = packed & 0x1FFFF;
                return MakeDateTime((int)(ym / 13), (int)(ym % 13), (int)(ymd & 31), (int)(hms >> 12), (int)((hms >> 6) & 63), (int)(hms & 63), micro, info.FractionalDigits);
            }

            case BinlogColumnType.Timestamp2:
            {
                var seconds = BinaryPrimitives.ReadUInt32BigEndian(d);
                var micro = Fraction(d[4..], info.FractionalDigits);
                return seconds == 0 && micro == 0
                    ? ZeroText(info.FractionalDigits)
                    : DateTime.UnixEpoch.AddTicks((seconds * TimeSpan.TicksPerSecond) + (micro * 10));
            }

            case BinlogColumnType.Time2:
                return DecodeTime2(d, info.FractionalDigits);
            case BinlogColumnType.Date:
            case BinlogColumnType.NewDate:
            {
                var v = d[0] | (d[1] << 8) | (d[2] << 16);
                return MakeDate(v >> 9, (v >> 5) & 15, v & 31);
            }

            case BinlogColumnType.DateTime:
            {
                var v = BinaryPrimitives.ReadUInt64LittleEndian(d);
                var date = v / 1_000_000;
                var time = v % 1_000_000;
                return MakeDateTime((int)(date / 10000), (int)(date / 100 % 100), (int)(date % 100), (int)(time / 10000), (int)(time / 100 % 100), (int)(time % 100), 0, 0);
            }

            case BinlogColumnType.Timestamp:
            {
                var seconds = BinaryPrimitives.ReadUInt32LittleEndian(d);
                return seconds == 0 ? ZeroText(0) : DateTime.UnixEpoch.AddSeconds(seconds);
            }

            case BinlogColumnType.Time:
            {
                var v = ((d[0] | (d[1] << 8) | (d[2] << 16)) << 8) >> 8;
                var magnitude = Math.Abs(v);
                var span = new TimeSpan(magnitude / 10000, magnitude / 100 % 100, magnitude % 100);
                return v < 0 ? -span : span;
            }

            default:
                throw WrongType(column, "a date or time");
        }
    }

    private static TimeSpan DecodeTime2(ReadOnlySpan<byte> d, int digits)
    {
        // MySQL my_time_packed_from_binary: packed = (intpart << 24) + microseconds, intpart = hh<<12 | mm<<6 | ss.
        long packed;
        switch (digits)
        {
            case 1:
            case 2:
            {
                long intPart = (long)ReadBigEndian(d[..3]) - 0x800000;
                int frac = d[3];
                if (intPart < 0 && frac != 0)
                {
                    intPart++;
                    frac -= 0x100;
                }

                packed = (intPart << 24) + (frac * 10000L);
                break;
            }

            case 3:
            case 4:
            {
                long intPart = (long)ReadBigEndian(d[..3]) - 0x800000;
                int frac = BinaryPrimitives.ReadUInt16BigEndian(d[3..]);
                if (intPart < 0 && frac != 0)
                {
                    intPart++;
                    frac -= 0x10000;
                }

                packed = (intPart << 24) + (frac * 100L);
                break;
            }

            case 5:
            case 6:
                packed = (long)ReadBigEndian(d[..6]) - 0x8000_0000_0000L;
                break;
            default:
                packed = ((long)ReadBigEndian(d[..3]) - 0x800000) << 24;
                break;
        }

        var negative = packed < 0;
        var magnitude = Math.Abs(packed);
        var hms = magnitude >> 24;
        var micro = magnitude & 0xFFFFFF;
        var ticks = ((((hms >> 12) & 0x3FF) * 3600) + (((hms >> 6) & 63) * 60) + (hms & 63)) * TimeSpan.TicksPerSecond + (micro * 10);
        return new TimeSpan(negative ? -ticks : ticks);
    }

    private static long Fraction(ReadOnlySpan<byte> d, int digits) => digits switch
    {
        1 or 2 => d[0] * 10000L,
        3 or 4 => BinaryPrimitives.ReadUInt16BigEndian(d) * 100L,
        5 or 6 => (long)ReadBigEndian(d[..3]),
        _ => 0,
    };

    private static bool TryMakeDateTime(int year, int month, int day, int hour, int minute, int second, long micro, out DateTime value)
    {
        if (year is >= 1 and <= 9999 && month is >= 1 and <= 12 && day >= 1 && day <= DateTime.DaysInMonth(year, month)
            && hour < 24 && minute < 60 && second < 60 && micro < 1_000_000)
        {
            value = new DateTime(year, month, day, hour, minute, second).AddTicks(micro * 10);
            return true;
        }

        value = default;
        return false;
    }

    private static object MakeDateTime(int year, int month, int day, int hour, int minute, int second, long micro, int digits)
    {
        if (TryMakeDateTime(year, month, day, hour, minute, second, micro, out var value))
        {
            return value;
        }

        var text = string.Create(CultureInfo.InvariantCulture, $"{year:0000}-{month:00}-{day:00} {hour:00}:{minute:00}:{second:00}");
        return digits > 0 ? text + "." + (micro / (long)Math.Pow(10, 6 - digits)).ToString(new string('0', digits), CultureInfo.InvariantCulture) : text;
    }

    private static object MakeDate(int year, int month, int day) =>
        year is >= 1 and <= 9999 && month is >= 1 and <= 12 && day >= 1 && day <= DateTime.DaysInMonth(year, month)
            ? new DateTime(year, month, day)
            : string.Create(CultureInfo.InvariantCulture, $"{year:0000}-{month:00}-{day:00}");

    private static string ZeroText(int digits) => digits > 0 ? "0000-00-00 00:00:00." + new string('0', digits) : "0000-00-00 00:00:00";

    private static string Decode(ReadOnlySpan<byte> bytes, TableColumn column) =>
        column.Collation is 5 or 8 or 15 or 31 or 47 or 48 or 49 or 94 ? Latin1.GetString(bytes) : Encoding.UTF8.GetString(bytes);

    private static ulong ReadBigEndian(ReadOnlySpan<byte> bytes)
    {
        ulong value = 0;
        foreach (var b in bytes)
        {
            value = (value << 8) | b;
        }

        return value;
    }

    private static ulong ReadLittleEndian(ReadOnlySpan<byte> bytes)
    {
        ulong value = 0;
        for (var i = bytes.Length - 1; i >= 0; i--)
        {
            value = (value << 8) | bytes[i];
        }

        return value;
    }

    /// <summary>
    /// Unpacks MySQL's binary DECIMAL: big-endian groups of 9 digits in 4 bytes (leading and trailing partial groups
    /// in 1–4 bytes), sign in the top bit of the first byte (set for positive), every byte inverted when negative.
    /// </summary>
    internal static object DecodeDecimal(ReadOnlySpan<byte> source, int precision, int scale)
    {
        ReadOnlySpan<int> digitBytes = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4];
        Span<byte> b = stackalloc byte[source.Length];
        source.CopyTo(b);
        var negative = (b[0] & 0x80) == 0;
        b[0] ^= 0x80;
        if (negative)
        {
            for (var i = 0; i < b.Length; i++)
            {
                b[i] = (byte)~b[i];
            }
        }

        var integral = precision - scale;
        var position = 0;
        BigInteger? big = null;
        UInt128 small = 0;
        var useBig = precision > 38;

        void Accumulate(ulong multiplier, ulong digits)
        {
            if (useBig)
            {
                big = ((big ?? BigInteger.Zero) * multiplier) + digits;
            }
            else
            {
                small = (small * multiplier) + digits;
            }
        }

        ulong Group(Span<byte> bytes, ref int at, int count)
        {
            ulong v = 0;
            for (var i = 0; i < count; i++)
            {
                v = (v << 8) | bytes[at + i];
            }

            at += count;
            return v;
        }

        if (integral % 9 > 0)
        {
            var digits = Group(b, ref position, digitBytes[integral % 9]);
            Accumulate((ulong)Math.Pow(10, integral % 9), digits);
        }

        for (var i = 0; i < integral / 9; i++)
        {
            Accumulate(1_000_000_000, Group(b, ref position, 4));
        }

        for (var i = 0; i < scale / 9; i++)
        {
            Accumulate(1_000_000_000, Group(b, ref position, 4));
        }

        if (scale % 9 > 0)
        {
            var digits = Group(b, ref position, digitBytes[scale % 9]);
            Accumulate((ulong)Math.Pow(10, scale % 9), digits);
        }

        if (!useBig && scale <= 28 && small >> 96 == 0)
        {
            var lo = (int)(uint)small;
            var mid = (int)(uint)(small >> 32);
            var hi = (int)(uint)(small >> 64);
            return new decimal(lo, mid, hi, negative && small != 0, (byte)scale);
        }

        var text = (useBig ? big!.Value : (BigInteger)small).ToString(CultureInfo.InvariantCulture).PadLeft(scale + 1, '0');
        if (scale > 0)
        {
            text = text[..^scale] + "." + text[^scale..];
        }

        return negative ? "-" + text : text;
    }
}

/// <summary>A row image with boxed values (see <see cref="RowImage.GetValue"/>); absent columns read as null.</summary>
public sealed class RowValues : IReadOnlyList<object?>
{
    private readonly object?[] _values;
    private readonly bool[]? _absent;
    private readonly TableMapEvent _table;

    internal RowValues(object?[] values, bool[]? absent, TableMapEvent table)
    {
        _values = values;
        _absent = absent;
        _table = table;
    }

    /// <inheritdoc />
    public int Count => _values.Length;

    /// <inheritdoc />
    public object? this[int index] => _values[index];

    /// <summary>The value of a named column (needs column names in the table map).</summary>
    public object? this[string name]
    {
        get
        {
            for (var i = 0; i < _table.ColumnsArray.Length; i++)
            {
                if (string.Equals(_table.ColumnsArray[i].Name, name, StringComparison.OrdinalIgnoreCase))
                {
                    return _values[i];
                }
            }

            throw new KeyNotFoundException(_table.HasColumnNames
                ? $"`{_table.Schema}`.`{_table.Table}` has no column `{name}`."
                : $"the table map of `{_table.Schema}`.`{_table.Table}` carries no column names (binlog_row_metadata=FULL gives them).");
        }
    }

    /// <summary>Whether the column is in the image (partial images leave some out).</summary>
    public bool IsPresent(int column) => _absent is null || !_absent[column];

    /// <inheritdoc />
    public IEnumerator<object?> GetEnumerator() => ((IEnumerable<object?>)_values).GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => _values.GetEnumerator();
}

/// <summary>One decoded row change.</summary>
public sealed class RowChange
{
    internal RowChange(TableMapEvent table, RowChangeKind kind, RowValues? before, RowValues? after)
    {
        TableMap = table;
        Kind = kind;
        Before = before;
        After = after;
    }

    /// <summary>The schema (database).</summary>
    public string Schema => TableMap.Schema;

    /// <summary>The table.</summary>
    public string Table => TableMap.Table;

    /// <summary>Insert, update or delete.</summary>
    public RowChangeKind Kind { get; }

    /// <summary>The row before the change (update, delete), else null.</summary>
    public RowValues? Before { get; }

    /// <summary>The row after the change (insert, update), else null.</summary>
    public RowValues? After { get; }

    /// <summary>Column names when the table map carries them (binlog_row_metadata=FULL), else null.</summary>
    public IReadOnlyList<string>? ColumnNames => TableMap.ColumnNames;

    /// <summary>The table definition.</summary>
    public TableMapEvent TableMap { get; }

    /// <inheritdoc />
    public override string ToString() =>
        $"{Kind} `{Schema}`.`{Table}` before=[{(Before is null ? string.Empty : string.Join(", ", Before))}] after=[{(After is null ? string.Empty : string.Join(", ", After))}]";
}
