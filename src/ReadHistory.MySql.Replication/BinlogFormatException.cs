namespace ReadHistory.MySql.Replication;

/// <summary>
/// Binlog bytes that do not follow the format: a truncated event, a length field pointing past the end, an
/// impossible value. The message says what was expected and what arrived.
/// </summary>
public class BinlogFormatException : Exception
{
    /// <summary>Creates the exception with no message.</summary>
    public BinlogFormatException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public BinlogFormatException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the exception that caused it.</summary>
    public BinlogFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>An event whose CRC32 checksum does not match its bytes (corruption on disk or on the wire).</summary>
public sealed class BinlogChecksumException : BinlogFormatException
{
    /// <summary>Creates the exception with no message.</summary>
    public BinlogChecksumException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public BinlogChecksumException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the exception that caused it.</summary>
    public BinlogChecksumException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
