namespace ReadHistory.Server.Cache;

/// <summary>What one refresh pass of the second tier did.</summary>
internal sealed class SnapshotRefresh
{
    /// <summary>Held filters written back (their snapshot was missing or older than RefreshMaxAge).</summary>
    public int Written { get; set; }

    /// <summary>Held filters whose snapshot was fresh enough, left alone.</summary>
    public int Fresh { get; set; }

    /// <summary>Snapshot bytes written.</summary>
    public long Bytes { get; set; }
}
