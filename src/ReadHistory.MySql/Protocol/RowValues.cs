using System.Buffers.Binary;
using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace ReadHistory.MySql.Protocol;

/// <summary>Decodes column values of one row (text or binary protocol) straight from the payload bytes.</summary>
internal static class RowValues
{
    /// <summary>
    /// Splits a row payload into (start, length) per column; length -1 is NULL. For the binary protocol, the start of a
    /// date/time value points after its length byte.
    /// </summary>
    public static void Split(ReadOnlySpan<byte> row, ColumnDefinition[] columns, bool binary, int[] starts, int[] lengths)
    {
        if (!binary)
        {
            var offset = 0;
            for (var i = 0; i < columns.Length; i++)
            {
                if ((uint)offset >= (uint)row.Length)
                {
                    throw new MySqlProtocolException($"text row too short for column {i}");
                }

                var first = row[offset];
                long length;
                if (first < 0xFB)
                {
                    length = first;
                    offset++;
                }
                else if (first == 0xFB)
                {
                    starts[i] = offset;
                    lengths[i] = -1;
                    offset++;
                    continue;
                }
                else
                {
                    var reader = new PayloadReader(row[offset..]);
                    length = (long)reader.ReadLengthEncodedInteger();
                    offset += reader.Offset;
                }

                if (length > row.Length - offset)
                {
                    throw new MySqlProtocolException($"column {i} of {length} bytes runs past the end of a {row.Length}-byte row");
                }

                starts[i] = offset;
                lengths[i] = (int)length;
                offset += (int)length;
            }

            if (offset != row.Length)
            {
                throw new MySqlProtocolException($"text row has {row.Length - offset} bytes after its last column");
            }

            return;
        }

        if (row.Length == 0 || row[0] != 0)
        {
            throw new MySqlProtocolException("binary row does not start with 0x00");
        }

        var bitmapLength = (columns.Length + 7 + 2) / 8;
        if (row.Length < 1 + bitmapLength)
        {
            throw new MySqlProtocolException("binary row too short for its NULL bitmap");
        }

        var bitmap = row.Slice(1, bitmapLength);
        var position = 1 + bitmapLength;
        for (var i = 0; i < columns.Length; i++)
        {
            var bit = i + 2;
            if ((bitmap[bit >> 3] & (1 << (bit & 7))) != 0)
            {
                starts[i] = position;
                lengths[i] = -1;
                continue;
            }

            int length;
            switch (columns[i].Type)
            {
                case ColumnType.Tiny:
                    length = 1;
                    break;
                case ColumnType.Short:
                case ColumnType.Year:
                    length = 2;
                    break;
                case ColumnType.Int24:
                case ColumnType.Long:
                case ColumnType.Float:
                    length = 4;
                    break;
                case ColumnType.LongLong:
                case ColumnType.Double:
                    length = 8;
                    break;
                case ColumnType.Null:
                    length = 0;
                    break;
                case ColumnType.Date:
                case ColumnType.NewDate:
                case ColumnType.DateTime:
                case ColumnType.DateTime2:
                case ColumnType.Timestamp:
                case ColumnType.Timestamp2:
                case ColumnType.Time:
                case ColumnType.Time2:
                    if (position >= row.Length)
                    {
                        throw new MySqlProtocolException($"binary row too short for column {i}");
                    }

                    length = row[position];
                    position++;
                    break;
                default:
                {
                    var reader = new PayloadReader(row[position..]);
                    var value = reader.ReadLengthEncodedInteger();
                    if (value > (ulong)(row.Length - position - reader.Offset))
                    {
                        throw new MySqlProtocolException($"column {i} of {value} bytes runs past the end of the row");
                    }

                    length = (int)value;
                    position += reader.Offset;
                    break;
                }
            }

            if (length > row.Length - position)
            {
                throw new MySqlProtocolException($"column {i} runs past the end of the binary row");
            }

            starts[i] = position;
            lengths[i] = length;
            position += length;
        }
    }

    public static Type GetFieldType(ColumnDefinition column, bool treatTinyAsBoolean) => column.Type switch
    {
        ColumnType.Tiny when treatTinyAsBoolean && column.Length == 1 && !column.IsUnsigned => typeof(bool),
        ColumnType.Tiny => column.IsUnsigned ? typeof(byte) : typeof(sbyte),
        ColumnType.Short => column.IsUnsigned ? typeof(ushort) : typeof(short),
        ColumnType.Int24 or ColumnType.Long => column.IsUnsigned ? typeof(uint) : typeof(int),
        ColumnType.LongLong => column.IsUnsigned ? typeof(ulong) : typeof(long),
        ColumnType.Year => typeof(int),
        ColumnType.Float => typeof(float),
        ColumnType.Double => typeof(double),
        ColumnType.Decimal or ColumnType.NewDecimal => typeof(decimal),
        ColumnType.Date or ColumnType.NewDate or ColumnType.DateTime or ColumnType.DateTime2 or ColumnType.Timestamp or ColumnType.Timestamp2 => typeof(DateTime),
        ColumnType.Time or ColumnType.Time2 => typeof(TimeSpan),
        ColumnType.Bit => typeof(ulong),
        ColumnType.Null => typeof(object),
        _ => column.IsBinary ? typeof(byte[]) : typeof(string),
    };

    public static string GetDataTypeName(ColumnDefinition column)
    {
        var name = column.Type switch
        {
            ColumnType.Tiny => "TINYINT",
            ColumnType.Short => "SMALLINT",
            ColumnType.Int24 => "MEDIUMINT",
            ColumnType.Long => "INT",
            ColumnType.LongLong => "BIGINT",
            ColumnType.Year => "YEAR",
            ColumnType.Float => "FLOAT",
            ColumnType.Double => "DOUBLE",
            ColumnType.Decimal or ColumnType.NewDecimal => "DECIMAL",
            ColumnType.Date or ColumnType.NewDate => "DATE",
            ColumnType.DateTime or ColumnType.DateTime2 => "DATETIME",
            ColumnType.Timestamp or ColumnType.Timestamp2 => "TIMESTAMP",
            ColumnType.Time or ColumnType.Time2 => "TIME",
            ColumnType.Bit => "BIT",
            ColumnType.Json => "JSON",
            ColumnType.Null => "NULL",
            ColumnType.TinyBlob or ColumnType.MediumBlob or ColumnType.LongBlob or ColumnType.Blob => column.IsBinary ? "BLOB" : "TEXT",
            ColumnType.VarChar or ColumnType.VarString => column.IsBinary ? "VARBINARY" : "VARCHAR",
            ColumnType.String when (column.Flags & ColumnFlags.Enum) != 0 => "ENUM",
            ColumnType.String when (column.Flags & ColumnFlags.Set) != 0 => "SET",
            ColumnType.String => column.IsBinary ? "BINARY" : "CHAR",
            ColumnType.Geometry => "GEOMETRY",
            _ => column.Type.ToString().ToUpperInvariant(),
        };
        return column.IsUnsigned && column.Type is ColumnType.Tiny or ColumnType.Short or ColumnType.Int24 or ColumnType.Long or ColumnType.LongLong
            ? name + " UNSIGNED"
            : name;
    }

    public static bool IsInteger(ColumnType type) =>
        type is ColumnType.Tiny or ColumnType.Short or ColumnType.Int24 or ColumnType.Long or ColumnType.LongLong or ColumnType.Year;

    /// <summary>A signed integer column value (text or binary).</summary>
    public static long GetInt64(ReadOnlySpan<byte> value, ColumnDefinition column, bool binary)
    {
        if (binary)
        {
            switch (column.Type)
            {
                case ColumnType.Tiny:
                    return column.IsUnsigned ? value[0] : (sbyte)value[0];
                case ColumnType.Short:
                case ColumnType.Year:
                    return column.IsUnsigned ? BinaryPrimitives.ReadUInt16LittleEndian(value) : BinaryPrimitives.ReadInt16LittleEndian(value);
                case ColumnType.Int24:
                case ColumnType.Long:
                    return column.IsUnsigned ? BinaryPrimitives.ReadUInt32LittleEndian(value) : BinaryPrimitives.ReadInt32LittleEndian(value);
                case ColumnType.LongLong:
                    return column.IsUnsigned ? checked((long)BinaryPrimitives.ReadUInt64LittleEndian(value)) : BinaryPrimitives.ReadInt64LittleEndian(value);
                case ColumnType.Bit:
                    return checked((long)GetBit(value));
                case ColumnType.Float:
                case ColumnType.Double:
                    return checked((long)GetDouble(value, column, binary));
            }
        }
        else if (column.Type == ColumnType.Bit)
        {
            return checked((long)GetBit(value));
        }

        if (Utf8Parser.TryParse(value, out long result, out var consumed) && consumed == value.Length)
        {
            return result;
        }

        if (Utf8Parser.TryParse(value, out decimal asDecimal, out consumed) && consumed == value.Length)
        {
            return checked((long)asDecimal);
        }

        throw new InvalidCastException($"Column '{column.Name}' value '{Encoding.UTF8.GetString(value)}' is not an integer.");
    }

    /// <summary>An unsigned integer column value (text or binary).</summary>
    public static ulong GetUInt64(ReadOnlySpan<byte> value, ColumnDefinition column, bool binary)
    {
        if (column.Type == ColumnType.Bit)
        {
            return GetBit(value);
        }

        if (binary || !IsInteger(column.Type) || !column.IsUnsigned)
        {
            if (binary && column.Type == ColumnType.LongLong && column.IsUnsigned)
            {
                return BinaryPrimitives.ReadUInt64LittleEndian(value);
            }

            if (binary || column.Type is not (ColumnType.Decimal or ColumnType.NewDecimal or ColumnType.VarString or ColumnType.String or ColumnType.VarChar))
            {
                return checked((ulong)GetInt64(value, column, binary));
            }
        }

        if (Utf8Parser.TryParse(value, out ulong result, out var consumed) && consumed == value.Length)
        {
            return result;
        }

        throw new InvalidCastException($"Column '{column.Name}' value '{Encoding.UTF8.GetString(value)}' is not an unsigned integer.");
    }

    public static double GetDouble(ReadOnlySpan<byte> value, ColumnDefinition column, bool binary)
    {
        if (binary)
        {
            switch (column.Type)
            {
                case ColumnType.Double:
                    return BinaryPrimitives.ReadDoubleLittleEndian(value);
                case ColumnType.Float:
                    return BinaryPrimitives.ReadSingleLittleEndian(value);
                case ColumnType.LongLong when column.IsUnsigned:
                    return BinaryPrimitives.ReadUInt64LittleEndian(value);
                case ColumnType.Tiny or ColumnType.Short or ColumnType.Int24 or ColumnType.Long or ColumnType.LongLong or ColumnType.Year:
                    return GetInt64(value, column, binary);
            }
        }

        if (column.Type == ColumnType.Float && !binary && Utf8Parser.TryParse(value, out float single, out var used) && used == value.Length)
        {
            // Parse FLOAT text as float, so that 1.1 reads back as 1.1f rather than a widened double.
            return single;
        }

        if (Utf8Parser.TryParse(value, out double result, out var consumed) && consumed == value.Length)
        {
            return result;
        }

        return double.Parse(Encoding.UTF8.GetString(value), NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    public static float GetFloat(ReadOnlySpan<byte> value, ColumnDefinition column, bool binary)
    {
        if (binary && column.Type == ColumnType.Float)
        {
            return BinaryPrimitives.ReadSingleLittleEndian(value);
        }

        if (!binary && Utf8Parser.TryParse(value, out float result, out var consumed) && consumed == value.Length)
        {
            return result;
        }

        return (float)GetDouble(value, column, binary);
    }

    public static decimal GetDecimal(ReadOnlySpan<byte> value, ColumnDefinition column, bool binary)
    {
        if (binary)
        {
            switch (column.Type)
            {
                case ColumnType.Double:
                case ColumnType.Float:
                    return (decimal)GetDouble(value, column, binary);
                case ColumnType.LongLong when column.IsUnsigned:
                    return BinaryPrimitives.ReadUInt64LittleEndian(value);
                case ColumnType.Tiny or ColumnType.Short or ColumnType.Int24 or ColumnType.Long or ColumnType.LongLong or ColumnType.Year:
                    return GetInt64(value, column, binary);
            }
        }

        if (Utf8Parser.TryParse(value, out decimal result, out var consumed) && consumed == value.Length)
        {
            return result;
        }

        return decimal.Parse(Encoding.UTF8.GetString(value), NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    public static ulong GetBit(ReadOnlySpan<byte> value)
    {
        ulong result = 0;
        foreach (var b in value)
        {
            result = (result << 8) | b;
        }

        return result;
    }

    public static DateTime GetDateTime(ReadOnlySpan<byte> value, ColumnDefinition column, bool binary, bool convertZero)
    {
        if (binary)
        {
            if (value.Length == 0)
            {
                return ZeroDate(column, convertZero);
            }

            if (value.Length < 4)
            {
                throw new MySqlProtocolException($"binary date of {value.Length} bytes");
            }

            int year = BinaryPrimitives.ReadUInt16LittleEndian(value);
            int month = value[2], day = value[3];
            int hour = 0, minute = 0, second = 0, micros = 0;
            if (value.Length >= 7)
            {
                hour = value[4];
                minute = value[5];
                second = value[6];
            }

            if (value.Length >= 11)
            {
                micros = (int)BinaryPrimitives.ReadUInt32LittleEndian(value[7..]);
            }

            if (year == 0 && month == 0 && day == 0)
            {
                return ZeroDate(column, convertZero);
            }

            return new DateTime(year, month, day, hour, minute, second).AddTicks(micros * 10L);
        }

        // YYYY-MM-DD[ HH:MM:SS[.ffffff]]
        if (value.Length < 10 || value[4] != '-' || value[7] != '-')
        {
            throw new InvalidCastException($"Column '{column.Name}' value '{Encoding.UTF8.GetString(value)}' is not a date.");
        }

        var y = Digits(value, 0, 4);
        var mo = Digits(value, 5, 2);
        var d = Digits(value, 8, 2);
        if (y == 0 && mo == 0 && d == 0)
        {
            return ZeroDate(column, convertZero);
        }

        var result = new DateTime(y, mo, d);
        if (value.Length >= 19)
        {
            result = result.Add(new TimeSpan(Digits(value, 11, 2), Digits(value, 14, 2), Digits(value, 17, 2)));
            if (value.Length > 20 && value[19] == '.')
            {
                result = result.AddTicks(Fraction(value[20..]));
            }
        }

        return result;
    }

    public static TimeSpan GetTimeSpan(ReadOnlySpan<byte> value, ColumnDefinition column, bool binary)
    {
        if (binary)
        {
            if (value.Length == 0)
            {
                return TimeSpan.Zero;
            }

            if (value.Length < 8)
            {
                throw new MySqlProtocolException($"binary time of {value.Length} bytes");
            }

            var negative = value[0] == 1;
            var days = (int)BinaryPrimitives.ReadUInt32LittleEndian(value[1..]);
            var span = new TimeSpan(days, value[5], value[6], value[7]);
            if (value.Length >= 12)
            {
                span += TimeSpan.FromTicks(BinaryPrimitives.ReadUInt32LittleEndian(value[8..]) * 10L);
            }

            return negative ? -span : span;
        }

        // [-]H+:MM:SS[.ffffff]
        var text = value;
        var sign = 1;
        if (text.Length > 0 && text[0] == '-')
        {
            sign = -1;
            text = text[1..];
        }

        var colon = text.IndexOf((byte)':');
        if (colon <= 0 || text.Length < colon + 6)
        {
            throw new InvalidCastException($"Column '{column.Name}' value '{Encoding.UTF8.GetString(value)}' is not a time.");
        }

        var hours = Digits(text, 0, colon);
        var minutes = Digits(text, colon + 1, 2);
        var seconds = Digits(text, colon + 4, 2);
        var ticks = (((hours * 60L) + minutes) * 60 + seconds) * TimeSpan.TicksPerSecond;
        if (text.Length > colon + 7 && text[colon + 6] == '.')
        {
            ticks += Fraction(text[(colon + 7)..]);
        }

        return TimeSpan.FromTicks(sign * ticks);
    }

    private static DateTime ZeroDate(ColumnDefinition column, bool convertZero) => convertZero
        ? DateTime.MinValue
        : throw new InvalidCastException($"Column '{column.Name}' holds a zero date (0000-00-00), which DateTime cannot represent; set ConvertZeroDateTime=True to read it as DateTime.MinValue.");

    private static int Digits(ReadOnlySpan<byte> value, int start, int count)
    {
        var result = 0;
        for (var i = start; i < start + count; i++)
        {
            var digit = value[i] - '0';
            if ((uint)digit > 9)
            {
                throw new InvalidCastException($"'{Encoding.UTF8.GetString(value)}' is not a valid date/time value.");
            }

            result = (result * 10) + digit;
        }

        return result;
    }

    private static long Fraction(ReadOnlySpan<byte> digits)
    {
        long ticks = 0;
        var scale = TimeSpan.TicksPerSecond;
        foreach (var b in digits)
        {
            var digit = b - '0';
            if ((uint)digit > 9)
            {
                break;
            }

            scale /= 10;
            ticks += digit * scale;
        }

        return ticks;
    }
}
