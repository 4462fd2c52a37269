namespace ReadHistory.MySql.Replication;

/// <summary>
/// The network connection failed: could not connect, TLS failed, reset, closed (end of stream), or the server sent
/// nothing within the read timeout. The connection is closed; <see cref="Client.BinlogClient"/> reconnects.
/// </summary>
public class ReplicationConnectionException : ReplicationException
{
    /// <summary>CR_CONN_HOST_ERROR: could not connect.</summary>
    public const int CannotConnect = 2003;

    /// <summary>CR_SERVER_LOST: the connection was lost.</summary>
    public const int ServerLost = 2013;

    /// <summary>Creates the exception with an error number.</summary>
    public ReplicationConnectionException(int number, string message, Exception? innerException = null)
        : base(number, null, message, innerException)
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public ReplicationConnectionException(string message)
        : this(ServerLost, message)
    {
    }

    /// <summary>Creates the exception with a message and the exception that caused it.</summary>
    public ReplicationConnectionException(string message, Exception innerException)
        : this(ServerLost, message, innerException)
    {
    }

    /// <summary>Creates the exception with no message.</summary>
    public ReplicationConnectionException()
        : this(ServerLost, "Lost connection to the server.")
    {
    }
}
