using System.Text;

namespace ReadHistory.MySql.Protocol;

/// <summary>An ERR packet (0xFF): error number, SQLSTATE and message.</summary>
internal sealed class ErrorPayload
{
    private ErrorPayload(int errorCode, string? sqlState, string message)
    {
        ErrorCode = errorCode;
        SqlState = sqlState;
        Message = message;
    }

    public int ErrorCode { get; }

    public string? SqlState { get; }

    public string Message { get; }

    public static bool IsError(ReadOnlySpan<byte> payload) => payload.Length > 0 && payload[0] == 0xFF;

    /// <summary>Parses an ERR payload (starting with its 0xFF header).</summary>
    public static ErrorPayload Create(ReadOnlySpan<byte> payload)
    {
        var reader = new PayloadReader(payload);
        if (reader.ReadByte() != 0xFF)
        {
            throw new MySqlProtocolException("expected an ERR packet (0xFF)");
        }

        int code = reader.ReadUInt16();
        string? state = null;
        if (reader.Remaining >= 6 && reader.PeekByte() == (byte)'#')
        {
            reader.Skip(1);
            state = Encoding.ASCII.GetString(reader.ReadSpan(5));
        }

        var message = Encoding.UTF8.GetString(reader.ReadToEnd());
        return new ErrorPayload(code, state, message);
    }

    public MySqlException ToException() => new((MySqlErrorCode)ErrorCode, SqlState, Message);

    /// <summary>Parses an ERR payload and returns it as an exception.</summary>
    public static MySqlException ToException(ReadOnlySpan<byte> payload) => Create(payload).ToException();
}

/// <summary>An OK packet (0x00, or 0xFE when it ends a result set under CLIENT_DEPRECATE_EOF) or an old EOF packet.</summary>
internal readonly struct OkPayload
{
    public OkPayload(ulong affectedRows, ulong lastInsertId, ServerStatus status, ushort warnings)
    {
        AffectedRows = affectedRows;
        LastInsertId = lastInsertId;
        Status = status;
        Warnings = warnings;
    }

    public ulong AffectedRows { get; }

    public ulong LastInsertId { get; }

    public ServerStatus Status { get; }

    public ushort Warnings { get; }

    public static bool IsOk(ReadOnlySpan<byte> payload) => payload.Length > 0 && payload[0] == 0x00;

    /// <summary>An end-of-rows marker: 0xFE with fewer than 0xFFFFFF bytes (a row can start with 0xFE only when it is that long).</summary>
    public static bool IsEndOfRows(ReadOnlySpan<byte> payload) => payload.Length > 0 && payload[0] == 0xFE && payload.Length < 0xFF_FFFF;

    public static OkPayload Create(ReadOnlySpan<byte> payload)
    {
        var reader = new PayloadReader(payload);
        var header = reader.ReadByte();
        if (header != 0x00 && header != 0xFE)
        {
            throw new MySqlProtocolException($"expected an OK packet, got header 0x{header:X2}");
        }

        var affected = reader.ReadLengthEncodedInteger();
        var lastInsertId = reader.ReadLengthEncodedInteger();
        var status = (ServerStatus)reader.ReadUInt16();
        var warnings = reader.ReadUInt16();
        return new OkPayload(affected, lastInsertId, status, warnings);
    }

    /// <summary>An old-style EOF packet: 0xFE, warnings, status (or just 0xFE).</summary>
    public static OkPayload CreateFromEof(ReadOnlySpan<byte> payload)
    {
        var reader = new PayloadReader(payload);
        if (reader.ReadByte() != 0xFE)
        {
            throw new MySqlProtocolException("expected an EOF packet (0xFE)");
        }

        if (reader.Remaining < 4)
        {
            return default;
        }

        var warnings = reader.ReadUInt16();
        var status = (ServerStatus)reader.ReadUInt16();
        return new OkPayload(0, 0, status, warnings);
    }
}

/// <summary>One column of a result set (Protocol::ColumnDefinition41).</summary>
internal sealed class ColumnDefinition
{
    public required string Name { get; init; }

    public required string Table { get; init; }

    public required string Database { get; init; }

    public required ushort CharacterSet { get; init; }

    public required uint Length { get; init; }

    public required ColumnType Type { get; init; }

    public required ColumnFlags Flags { get; init; }

    public required byte Decimals { get; init; }

    public bool IsUnsigned => (Flags & ColumnFlags.Unsigned) != 0;

    /// <summary>Binary collation (63): BLOB/BINARY data rather than text.</summary>
    public bool IsBinary => CharacterSet == 63;

    public static ColumnDefinition Create(ReadOnlySpan<byte> payload)
    {
        var reader = new PayloadReader(payload);
        reader.ReadLengthEncodedSpan(); // catalog ("def")
        var schema = reader.ReadLengthEncodedString();
        var table = reader.ReadLengthEncodedString();
        reader.ReadLengthEncodedSpan(); // org_table
        var name = reader.ReadLengthEncodedString();
        reader.ReadLengthEncodedSpan(); // org_name
        var fixedLength = reader.ReadLengthEncodedInteger();
        if (fixedLength < 10)
        {
            throw new MySqlProtocolException($"column definition fixed part of {fixedLength} bytes");
        }

        var charset = reader.ReadUInt16();
        var length = reader.ReadUInt32();
        var type = (ColumnType)reader.ReadByte();
        var flags = (ColumnFlags)reader.ReadUInt16();
        var decimals = reader.ReadByte();
        return new ColumnDefinition
        {
            Name = name,
            Table = table,
            Database = schema,
            CharacterSet = charset,
            Length = length,
            Type = type,
            Flags = flags,
            Decimals = decimals,
        };
    }
}
