namespace ReadHistory.Server.Cdc;

/// <summary>A change batch read from a stream is truncated, corrupt or of an unknown version.</summary>
internal sealed class ChangeBatchException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ChangeBatchException()
    {
    }

    /// <summary>Creates the exception with a message saying what was expected and what arrived.</summary>
    public ChangeBatchException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public ChangeBatchException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
