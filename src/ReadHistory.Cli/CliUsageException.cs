namespace ReadHistory.Cli;

/// <summary>Bad input found after parsing (a malformed line of an events file, an unreadable file): exit code 1.</summary>
internal sealed class CliUsageException : Exception
{
    /// <summary>Creates the exception with the message printed after <c>error: </c>.</summary>
    public CliUsageException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with the message printed after <c>error: </c> and its cause.</summary>
    public CliUsageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
