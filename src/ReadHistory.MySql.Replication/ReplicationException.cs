namespace ReadHistory.MySql.Replication;

/// <summary>
/// An error with a MySQL error number: an ERR packet from the server (e.g. 1236, the binlog no longer has the
/// requested position), or a client-side failure numbered as the C client numbers them (e.g. 2061, authentication).
/// </summary>
public class ReplicationException : Exception
{
    /// <summary>Creates an exception with an error number, SQLSTATE and message.</summary>
    public ReplicationException(int number, string? sqlState, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Number = number;
        SqlState = sqlState;
    }

    /// <summary>Creates an exception with a message.</summary>
    public ReplicationException(string message)
        : this(0, null, message)
    {
    }

    /// <summary>Creates an exception with a message and the exception that caused it.</summary>
    public ReplicationException(string message, Exception innerException)
        : this(0, null, message, innerException)
    {
    }

    /// <summary>Creates an exception with no message.</summary>
    public ReplicationException()
        : this(0, null, "MySQL replication error")
    {
    }

    /// <summary>The MySQL error number (0 when there is none).</summary>
    public int Number { get; }

    /// <summary>The five-character SQLSTATE, when the server sent one.</summary>
    public string? SqlState { get; }
}
