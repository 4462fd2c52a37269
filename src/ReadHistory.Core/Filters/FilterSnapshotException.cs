namespace ReadHistory.Core.Filters;

/// <summary>What was wrong with a filter snapshot.</summary>
public enum FilterSnapshotError
{
    /// <summary>Fewer bytes than the layout declares.</summary>
    Truncated,

    /// <summary>Not a filter snapshot: the magic bytes differ.</summary>
    BadMagic,

    /// <summary>A version this build cannot read.</summary>
    UnsupportedVersion,

    /// <summary>Declared sizes beyond the configured maximum.</summary>
    Oversize,

    /// <summary>Fields that contradict each other or are out of their range.</summary>
    Inconsistent,

    /// <summary>The CRC-32C over the content does not match the stored one.</summary>
    ChecksumMismatch,
}

/// <summary>A filter snapshot was rejected; the message says what was expected and what arrived.</summary>
public sealed class FilterSnapshotException : FormatException
{
    /// <summary>Creates the exception for a rejected snapshot.</summary>
    public FilterSnapshotException(FilterSnapshotError error, string message)
        : base(message) => Error = error;

    /// <summary>Creates the exception (for serializers and tests).</summary>
    public FilterSnapshotException()
        : base("The filter snapshot is invalid.") => Error = FilterSnapshotError.Inconsistent;

    /// <summary>Creates the exception (for serializers and tests).</summary>
    public FilterSnapshotException(string message)
        : base(message) => Error = FilterSnapshotError.Inconsistent;

    /// <summary>Creates the exception (for serializers and tests).</summary>
    public FilterSnapshotException(string message, Exception innerException)
        : base(message, innerException) => Error = FilterSnapshotError.Inconsistent;

    /// <summary>Which check failed.</summary>
    public FilterSnapshotError Error { get; }
}
