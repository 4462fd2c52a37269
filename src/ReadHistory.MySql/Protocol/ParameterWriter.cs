using System.Buffers.Binary;
using System.Buffers.Text;
using System.Globalization;

namespace ReadHistory.MySql.Protocol;

/// <summary>Writes parameter values: as SQL literals for the text protocol, or as binary values for COM_STMT_EXECUTE.</summary>
internal static class ParameterWriter
{
    /// <summary>Writes <paramref name="value"/> as a SQL literal (strings escaped, bytes as X'hex', dates quoted).</summary>
    public static void WriteLiteral(PayloadWriter writer, object? value, bool noBackslashEscapes)
    {
        switch (value)
        {
            case null or DBNull:
                writer.Write("NULL"u8);
                break;
            case string s:
                WriteQuoted(writer, s, noBackslashEscapes);
                break;
            case char c:
                WriteQuoted(writer, c.ToString(), noBackslashEscapes);
                break;
            case bool b:
                writer.Write(b ? (byte)'1' : (byte)'0');
                break;
            case int i:
                WriteFormatted(writer, i);
                break;
            case long l:
                WriteFormatted(writer, l);
                break;
            case ulong ul:
                WriteFormatted(writer, ul);
                break;
            case uint ui:
                WriteFormatted(writer, ui);
                break;
            case short sh:
                WriteFormatted(writer, sh);
                break;
            case ushort us:
                WriteFormatted(writer, us);
                break;
            case byte by:
                WriteFormatted(writer, by);
                break;
            case sbyte sb:
                WriteFormatted(writer, sb);
                break;
            case decimal d:
                writer.Advance(Format(writer.GetSpan(64), d));
                break;
            case double db:
                writer.WriteUtf8(FormatDouble(db));
                break;
            case float f:
                writer.WriteUtf8(FormatFloat(f));
                break;
            case byte[] bytes:
                WriteHex(writer, bytes);
                break;
            case ReadOnlyMemory<byte> rom:
                WriteHex(writer, rom.Span);
                break;
            case Memory<byte> mem:
                WriteHex(writer, mem.Span);
                break;
            case ArraySegment<byte> segment:
                WriteHex(writer, segment.AsSpan());
                break;
            case DateTime dt:
                writer.Write((byte)'\'');
                writer.WriteUtf8(FormatDateTime(dt));
                writer.Write((byte)'\'');
                break;
            case DateTimeOffset dto:
                writer.Write((byte)'\'');
                writer.WriteUtf8(FormatDateTime(dto.UtcDateTime));
                writer.Write((byte)'\'');
                break;
            case DateOnly date:
                writer.Write((byte)'\'');
                writer.WriteUtf8(date.ToString("yyyy'-'MM'-'dd", CultureInfo.InvariantCulture));
                writer.Write((byte)'\'');
                break;
            case TimeOnly time:
                writer.Write((byte)'\'');
                writer.WriteUtf8(time.ToString("HH':'mm':'ss'.'ffffff", CultureInfo.InvariantCulture));
                writer.Write((byte)'\'');
                break;
            case TimeSpan span:
                writer.Write((byte)'\'');
                writer.WriteUtf8(FormatTimeSpan(span));
                writer.Write((byte)'\'');
                break;
            case Guid guid:
                writer.Write((byte)'\'');
                writer.WriteUtf8(guid.ToString("D"));
                writer.Write((byte)'\'');
                break;
            case Enum e:
                WriteLiteral(writer, EnumToInteger(e), noBackslashEscapes);
                break;
            default:
                throw new NotSupportedException($"Parameter type {value.GetType().FullName} is not supported.");
        }
    }

    /// <summary>The protocol type (and unsigned flag) a value is sent as in COM_STMT_EXECUTE.</summary>
    public static (ColumnType Type, bool Unsigned) GetBinaryType(object? value) => value switch
    {
        null or DBNull => (ColumnType.Null, false),
        string or char or Guid => (ColumnType.VarString, false),
        bool => (ColumnType.Tiny, false),
        sbyte => (ColumnType.Tiny, false),
        byte => (ColumnType.Tiny, true),
        short => (ColumnType.Short, false),
        ushort => (ColumnType.Short, true),
        int => (ColumnType.Long, false),
        uint => (ColumnType.Long, true),
        long => (ColumnType.LongLong, false),
        ulong => (ColumnType.LongLong, true),
        float => (ColumnType.Float, false),
        double => (ColumnType.Double, false),
        decimal => (ColumnType.NewDecimal, false),
        byte[] or ReadOnlyMemory<byte> or Memory<byte> or ArraySegment<byte> => (ColumnType.Blob, false),
        DateTime or DateTimeOffset => (ColumnType.DateTime, false),
        DateOnly => (ColumnType.Date, false),
        TimeSpan or TimeOnly => (ColumnType.Time, false),
        Enum e => GetBinaryType(EnumToInteger(e)),
        _ => throw new NotSupportedException($"Parameter type {value.GetType().FullName} is not supported."),
    };

    /// <summary>Writes a non-null value in the binary protocol encoding of <see cref="GetBinaryType"/>.</summary>
    public static void WriteBinary(PayloadWriter writer, object value)
    {
        switch (value)
        {
            case string s:
                writer.WriteLengthEncodedString(s);
                break;
            case char c:
                writer.WriteLengthEncodedString(c.ToString());
                break;
            case Guid g:
                writer.WriteLengthEncodedString(g.ToString("D"));
                break;
            case bool b:
                writer.Write(b ? (byte)1 : (byte)0);
                break;
            case sbyte sb:
                writer.Write(unchecked((byte)sb));
                break;
            case byte by:
                writer.Write(by);
                break;
            case short sh:
                writer.WriteUInt16(unchecked((ushort)sh));
                break;
            case ushort us:
                writer.WriteUInt16(us);
                break;
            case int i:
                writer.WriteUInt32(unchecked((uint)i));
                break;
            case uint ui:
                writer.WriteUInt32(ui);
                break;
            case long l:
                writer.WriteUInt64(unchecked((ulong)l));
                break;
            case ulong ul:
                writer.WriteUInt64(ul);
                break;
            case float f:
                BinaryPrimitives.WriteSingleLittleEndian(writer.GetSpan(4), f);
                writer.Advance(4);
                break;
            case double d:
                BinaryPrimitives.WriteDoubleLittleEndian(writer.GetSpan(8), d);
                writer.Advance(8);
                break;
            case decimal m:
            {
                Span<byte> text = stackalloc byte[64];
                var length = Format(text, m);
                writer.WriteLengthEncodedBytes(text[..length]);
                break;
            }

            case byte[] bytes:
                writer.WriteLengthEncodedBytes(bytes);
                break;
            case ReadOnlyMemory<byte> rom:
                writer.WriteLengthEncodedBytes(rom.Span);
                break;
            case Memory<byte> mem:
                writer.WriteLengthEncodedBytes(mem.Span);
                break;
            case ArraySegment<byte> segment:
                writer.WriteLengthEncodedBytes(segment.AsSpan());
                break;
            case DateTime dt:
                WriteBinaryDateTime(writer, dt);
                break;
            case DateTimeOffset dto:
                WriteBinaryDateTime(writer, dto.UtcDateTime);
                break;
            case DateOnly date:
                writer.Write(4);
                writer.WriteUInt16((ushort)date.Year);
                writer.Write((byte)date.Month);
                writer.Write((byte)date.Day);
                break;
            case TimeOnly time:
                WriteBinaryTime(writer, time.ToTimeSpan());
                break;
            case TimeSpan span:
                WriteBinaryTime(writer, span);
                break;
            case Enum e:
                WriteBinary(writer, EnumToInteger(e));
                break;
            default:
                throw new NotSupportedException($"Parameter type {value.GetType().FullName} is not supported.");
        }
    }

    internal static string FormatDateTime(DateTime dt) =>
        dt.Ticks % TimeSpan.TicksPerSecond == 0
            ? dt.ToString("yyyy'-'MM'-'dd' 'HH':'mm':'ss", CultureInfo.InvariantCulture)
            : dt.ToString("yyyy'-'MM'-'dd' 'HH':'mm':'ss'.'ffffff", CultureInfo.InvariantCulture);

    internal static string FormatTimeSpan(TimeSpan span)
    {
        var negative = span < TimeSpan.Zero;
        if (negative)
        {
            span = span.Duration();
        }

        var hours = (long)span.TotalHours;
        var micros = span.Ticks % TimeSpan.TicksPerSecond / 10;
        return string.Create(CultureInfo.InvariantCulture, $"{(negative ? "-" : string.Empty)}{hours:00}:{span.Minutes:00}:{span.Seconds:00}.{micros:000000}");
    }

    private static object EnumToInteger(Enum e) => Type.GetTypeCode(Enum.GetUnderlyingType(e.GetType())) switch
    {
        TypeCode.UInt64 or TypeCode.UInt32 or TypeCode.UInt16 or TypeCode.Byte => Convert.ToUInt64(e, CultureInfo.InvariantCulture),
        _ => Convert.ToInt64(e, CultureInfo.InvariantCulture),
    };

    private static string FormatDouble(double value) => double.IsFinite(value)
        ? value.ToString("R", CultureInfo.InvariantCulture)
        : throw new NotSupportedException($"MySQL cannot store the double value {value}.");

    private static string FormatFloat(float value) => float.IsFinite(value)
        ? value.ToString("R", CultureInfo.InvariantCulture)
        : throw new NotSupportedException($"MySQL cannot store the float value {value}.");

    private static int Format(Span<byte> destination, decimal value) =>
        Utf8Formatter.TryFormat(value, destination, out var written) ? written : throw new InvalidOperationException("decimal did not fit");

    private static void WriteFormatted(PayloadWriter writer, long value)
    {
        Utf8Formatter.TryFormat(value, writer.GetSpan(20), out var written);
        writer.Advance(written);
    }

    private static void WriteFormatted(PayloadWriter writer, ulong value)
    {
        Utf8Formatter.TryFormat(value, writer.GetSpan(20), out var written);
        writer.Advance(written);
    }

    private static void WriteHex(PayloadWriter writer, ReadOnlySpan<byte> bytes)
    {
        writer.Write("X'"u8);
        var span = writer.GetSpan(bytes.Length * 2);
        for (var i = 0; i < bytes.Length; i++)
        {
            span[2 * i] = HexDigit(bytes[i] >> 4);
            span[(2 * i) + 1] = HexDigit(bytes[i] & 0xF);
        }

        writer.Advance(bytes.Length * 2);
        writer.Write((byte)'\'');
    }

    private static byte HexDigit(int value) => (byte)(value < 10 ? '0' + value : 'A' + value - 10);

    private static void WriteQuoted(PayloadWriter writer, string value, bool noBackslashEscapes)
    {
        writer.Write((byte)'\'');
        var span = value.AsSpan();
        var start = 0;
        for (var i = 0; i < span.Length; i++)
        {
            var c = span[i];
            byte escape;
            if (noBackslashEscapes)
            {
                if (c != '\'')
                {
                    continue;
                }

                escape = (byte)'\'';
                writer.WriteUtf8(span[start..i]);
                writer.Write("''"u8);
                start = i + 1;
                continue;
            }

            switch (c)
            {
                case '\0': escape = (byte)'0'; break;
                case '\n': escape = (byte)'n'; break;
                case '\r': escape = (byte)'r'; break;
                case '\x1a': escape = (byte)'Z'; break;
                case '\\': escape = (byte)'\\'; break;
                case '\'': escape = (byte)'\''; break;
                case '"': escape = (byte)'"'; break;
                default: continue;
            }

            writer.WriteUtf8(span[start..i]);
            writer.Write((byte)'\\');
            writer.Write(escape);
            start = i + 1;
        }

        writer.WriteUtf8(span[start..]);
        writer.Write((byte)'\'');
    }

    private static void WriteBinaryDateTime(PayloadWriter writer, DateTime dt)
    {
        var micros = (int)(dt.Ticks % TimeSpan.TicksPerSecond / 10);
        writer.Write(micros == 0 ? (byte)7 : (byte)11);
        writer.WriteUInt16((ushort)dt.Year);
        writer.Write((byte)dt.Month);
        writer.Write((byte)dt.Day);
        writer.Write((byte)dt.Hour);
        writer.Write((byte)dt.Minute);
        writer.Write((byte)dt.Second);
        if (micros != 0)
        {
            writer.WriteUInt32((uint)micros);
        }
    }

    private static void WriteBinaryTime(PayloadWriter writer, TimeSpan span)
    {
        var negative = span < TimeSpan.Zero;
        if (negative)
        {
            span = span.Duration();
        }

        var micros = (int)(span.Ticks % TimeSpan.TicksPerSecond / 10);
        writer.Write(micros == 0 ? (byte)8 : (byte)12);
        writer.Write(negative ? (byte)1 : (byte)0);
        writer.WriteUInt32((uint)span.Days);
        writer.Write((byte)span.Hours);
        writer.Write((byte)span.Minutes);
        writer.Write((byte)span.Seconds);
        if (micros != 0)
        {
            writer.WriteUInt32((uint)micros);
        }
    }
}
