using System.Data.Common;

namespace ReadHistory.MySql;

/// <summary>Error numbers this client raises or tests for (server numbers are MySQL's; negative ones are client-side, as in MySqlConnector).</summary>
#pragma warning disable CA1008 // No zero member: the numbers are the server's.
public enum MySqlErrorCode
#pragma warning restore CA1008
{
    /// <summary>The Command Timeout expired before the operation completed (client-side).</summary>
    CommandTimeoutExpired = -2,

    /// <summary>The connection pool had no free connection within the timeout (client-side).</summary>
    ConnectionPoolExhausted = -3,

    /// <summary>ER_CON_COUNT_ERROR: too many connections.</summary>
    ConnectionCountError = 1040,

    /// <summary>Unable to connect to any of the specified hosts.</summary>
    UnableToConnectToHost = 1042,

    /// <summary>ER_DBACCESS_DENIED_ERROR.</summary>
    DatabaseAccessDenied = 1044,

    /// <summary>ER_ACCESS_DENIED_ERROR: wrong user name or password.</summary>
    AccessDenied = 1045,

    /// <summary>ER_BAD_DB_ERROR: unknown database.</summary>
    UnknownDatabase = 1049,

    /// <summary>ER_DUP_ENTRY: duplicate key.</summary>
    DuplicateKeyEntry = 1062,

    /// <summary>ER_PARSE_ERROR: SQL syntax error.</summary>
    ParseError = 1064,

    /// <summary>ER_NO_SUCH_TABLE.</summary>
    NoSuchTable = 1146,

    /// <summary>ER_QUERY_INTERRUPTED: the query was killed (KILL QUERY).</summary>
    QueryInterrupted = 1317,

    /// <summary>ER_LOCK_WAIT_TIMEOUT.</summary>
    LockWaitTimeout = 1205,

    /// <summary>ER_LOCK_DEADLOCK.</summary>
    LockDeadlock = 1213,

    /// <summary>ER_CONNECTION_KILLED (MariaDB).</summary>
    ConnectionKilled = 1927,

    /// <summary>CR_SERVER_GONE_ERROR.</summary>
    ServerGoneError = 2006,

    /// <summary>CR_SERVER_LOST: the connection was lost during a query.</summary>
    ServerLost = 2013,

    /// <summary>CR_MALFORMED_PACKET: the server sent something the protocol does not allow.</summary>
    MalformedPacket = 2027,

    /// <summary>CR_AUTH_PLUGIN_ERR: authentication could not be completed on the client.</summary>
    AuthenticationPluginError = 2061,
}

/// <summary>An error reported by the server (ERR packet) or raised by the client; <see cref="Number"/> is the MySQL error number.</summary>
public class MySqlException : DbException
{
    /// <summary>Creates an exception with a MySQL error number, SQLSTATE and message.</summary>
    public MySqlException(MySqlErrorCode errorCode, string? sqlState, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        ErrorCode = errorCode;
        SqlState = sqlState;
    }

    /// <summary>Creates a client-side exception.</summary>
    public MySqlException(string message)
        : this(0, null, message)
    {
    }

    /// <summary>Creates a client-side exception with an inner exception.</summary>
    public MySqlException(string message, Exception? innerException)
        : this(0, null, message, innerException)
    {
    }

    /// <summary>Creates an empty exception.</summary>
    public MySqlException()
        : this(0, null, "MySQL error")
    {
    }

    /// <summary>The MySQL error number (server numbers, or negative client-side codes).</summary>
    public new MySqlErrorCode ErrorCode { get; }

    /// <summary>The MySQL error number as an integer (same as <see cref="ErrorCode"/>).</summary>
    public int Number => (int)ErrorCode;

    /// <summary>The five-character SQLSTATE, when the server sent one.</summary>
    public override string? SqlState { get; }

    /// <inheritdoc />
    public override bool IsTransient => ErrorCode is MySqlErrorCode.LockDeadlock or MySqlErrorCode.LockWaitTimeout
        or MySqlErrorCode.ConnectionCountError or MySqlErrorCode.ServerLost or MySqlErrorCode.ServerGoneError
        or MySqlErrorCode.UnableToConnectToHost or MySqlErrorCode.ConnectionPoolExhausted;
}

/// <summary>
/// The network connection to the server failed (could not connect, reset, closed, or timed out at the socket).
/// The connection it happened on is closed and never returned to the pool.
/// </summary>
public class MySqlConnectionException : MySqlException
{
    /// <summary>Creates the exception.</summary>
    public MySqlConnectionException(MySqlErrorCode errorCode, string message, Exception? innerException = null)
        : base(errorCode, "08S01", message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    public MySqlConnectionException(string message)
        : this(MySqlErrorCode.ServerLost, message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public MySqlConnectionException(string message, Exception? innerException)
        : this(MySqlErrorCode.ServerLost, message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    public MySqlConnectionException()
        : this("Lost connection to the MySQL server.")
    {
    }
}

/// <summary>The server closed the connection (end of stream) while the client expected more data.</summary>
public sealed class MySqlEndOfStreamException : MySqlConnectionException
{
    /// <summary>Creates the exception.</summary>
    public MySqlEndOfStreamException(string message, Exception? innerException)
        : base(MySqlErrorCode.ServerLost, message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    public MySqlEndOfStreamException(string message)
        : this(message, null)
    {
    }

    /// <summary>Creates the exception.</summary>
    public MySqlEndOfStreamException()
        : this("The server closed the connection (end of stream).")
    {
    }
}

/// <summary>The server sent bytes the MySQL protocol does not allow at that point; the connection is closed.</summary>
public sealed class MySqlProtocolException : MySqlException
{
    /// <summary>Creates the exception.</summary>
    public MySqlProtocolException(string message, Exception? innerException)
        : base(MySqlErrorCode.MalformedPacket, "08S01", "MySQL protocol violation: " + message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    public MySqlProtocolException(string message)
        : this(message, null)
    {
    }

    /// <summary>Creates the exception.</summary>
    public MySqlProtocolException()
        : this("malformed packet")
    {
    }
}
