namespace ReadHistory.Server.Storage;

/// <summary>The ingest queue is full: the caller should back off (the API answers RESOURCE_EXHAUSTED at once).</summary>
internal sealed class StorageOverloadedException : Exception
{
    /// <summary>Creates the exception with a retry hint.</summary>
    public StorageOverloadedException(string message, TimeSpan retryAfter)
        : base(message) => RetryAfter = retryAfter;

    /// <summary>Creates the exception.</summary>
    public StorageOverloadedException()
        : this("the storage ingest queue is full", TimeSpan.FromMilliseconds(100))
    {
    }

    /// <summary>Creates the exception.</summary>
    public StorageOverloadedException(string message)
        : this(message, TimeSpan.FromMilliseconds(100))
    {
    }

    /// <summary>Creates the exception.</summary>
    public StorageOverloadedException(string message, Exception innerException)
        : base(message, innerException) => RetryAfter = TimeSpan.FromMilliseconds(100);

    /// <summary>How long the caller should wait before trying again.</summary>
    public TimeSpan RetryAfter { get; }
}

/// <summary>A write was not committed (a permanent error, or transient errors past the retry budget); nothing of it is acknowledged.</summary>
internal sealed class StorageWriteException : Exception
{
    /// <summary>Creates the exception.</summary>
    public StorageWriteException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    public StorageWriteException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public StorageWriteException()
        : base("the write was not committed")
    {
    }
}
