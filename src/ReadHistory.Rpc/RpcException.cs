namespace ReadHistory.Rpc;

/// <summary>A call that ended with a non-OK status. Thrown by clients; thrown by handlers to answer with that status and trailers.</summary>
public class RpcException : Exception
{
    /// <summary>Creates an exception for a status, with no trailers.</summary>
    public RpcException(Status status)
        : this(status, Metadata.Empty, status.ToString())
    {
    }

    /// <summary>Creates an exception for a status and the trailers to send (server) or that were received (client).</summary>
    public RpcException(Status status, Metadata trailers)
        : this(status, trailers, status.ToString())
    {
    }

    /// <summary>Creates an exception with an explicit message.</summary>
    public RpcException(Status status, Metadata trailers, string message)
        : base(message, status.DebugException)
    {
        Status = status;
        Trailers = trailers ?? Metadata.Empty;
    }

    /// <summary>Not used: an <see cref="RpcException"/> always carries a status.</summary>
    public RpcException()
        : this(new Status(StatusCode.Unknown, string.Empty))
    {
    }

    /// <summary>Creates an UNKNOWN status with this message.</summary>
    public RpcException(string message)
        : this(new Status(StatusCode.Unknown, message))
    {
    }

    /// <summary>Creates an UNKNOWN status with this message and inner exception.</summary>
    public RpcException(string message, Exception innerException)
        : base(message, innerException)
    {
        Status = new Status(StatusCode.Unknown, message, innerException);
        Trailers = Metadata.Empty;
    }

    /// <summary>The call's status.</summary>
    public Status Status { get; }

    /// <summary>The status code (shortcut for <c>Status.StatusCode</c>).</summary>
    public StatusCode StatusCode => Status.StatusCode;

    /// <summary>The trailers that came with the status (custom metadata only).</summary>
    public Metadata Trailers { get; }
}
