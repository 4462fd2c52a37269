namespace ReadHistory.Server.Api;

/// <summary>The database has not been reached yet (the node is starting or the database is down).</summary>
internal sealed class DatabaseNotReadyException : Exception
{
    /// <summary>Creates the exception with a message saying why.</summary>
    public DatabaseNotReadyException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with the default message.</summary>
    public DatabaseNotReadyException()
        : this("the database is not reachable yet")
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public DatabaseNotReadyException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
