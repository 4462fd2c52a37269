namespace ReadHistory.MySql.Replication;

/// <summary>The server sent something the protocol does not allow (CR_MALFORMED_PACKET); the connection is closed.</summary>
public class ReplicationProtocolException : ReplicationException
{
    /// <summary>CR_MALFORMED_PACKET.</summary>
    public const int MalformedPacket = 2027;

    /// <summary>Creates the exception with a message.</summary>
    public ReplicationProtocolException(string message)
        : base(MalformedPacket, null, "MySQL protocol error: " + message)
    {
    }

    /// <summary>Creates the exception with a message and the exception that caused it.</summary>
    public ReplicationProtocolException(string message, Exception innerException)
        : base(MalformedPacket, null, "MySQL protocol error: " + message, innerException)
    {
    }

    /// <summary>Creates the exception with no message.</summary>
    public ReplicationProtocolException()
        : this("malformed packet")
    {
    }
}
