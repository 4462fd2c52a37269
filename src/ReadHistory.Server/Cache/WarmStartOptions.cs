namespace ReadHistory.Server.Cache;

/// <summary>How a starting node copies a peer's filters (immutable).</summary>
internal sealed class WarmStartOptions
{
    /// <summary>The longest a warm start may take, connection included; past it the node starts cold (default 60 s).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Filter data per chunk asked of the peer (default 1 MiB; the peer clamps it to 64 B .. 4 MiB).</summary>
    public int ChunkBytes { get; init; } = SnapshotSender.DefaultChunkBytes;

    /// <summary>Throws when a setting is out of range.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(Timeout, TimeSpan.Zero, nameof(Timeout));
        ArgumentOutOfRangeException.ThrowIfLessThan(ChunkBytes, SnapshotSender.MinChunkBytes, nameof(ChunkBytes));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(ChunkBytes, SnapshotSender.MaxChunkBytes, nameof(ChunkBytes));
    }
}
