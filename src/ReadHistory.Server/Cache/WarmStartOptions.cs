using ReadHistory.Server.Tls;

namespace ReadHistory.Server.Cache;

/// <summary>How a starting node copies a peer's filters (immutable; the node makes one per attempt from <see cref="CacheNodeOptions"/>).</summary>
internal sealed class WarmStartOptions
{
    /// <summary>The longest a warm start may take, connection included; past it the node starts cold.</summary>
    public required TimeSpan Timeout { get; init; }

    /// <summary>Filter data per chunk asked of the peer.</summary>
    public required int ChunkBytes { get; init; }

    /// <summary>Smallest <see cref="WindowBytes"/> (HTTP/2's own default window).</summary>
    public const int MinWindowBytes = 64 << 10;

    /// <summary>Largest <see cref="WindowBytes"/> (the HTTP client's largest).</summary>
    public const int MaxWindowBytes = 16 << 20;

    /// <summary>
    /// The Snapshot stream's HTTP/2 receive window: bytes the peer may send ahead of what this node has read.
    /// They wait in 16 KiB buffers of the shared array pool, which keeps few per core: a larger window recycles
    /// fewer of them (garbage and collections), a smaller one lets a distant peer wait for window updates (throughput
    /// at most the window per round trip). Fixed only where the process disables the client's dynamic window sizing
    /// (the node does, in its runtime configuration).
    /// </summary>
    public required int WindowBytes { get; init; }

    /// <summary>The internal port's mutual TLS the channel to the peer uses (null: cleartext HTTP/2).</summary>
    public InternalTls? Tls { get; init; }

    /// <summary>Throws when a setting is out of range.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(Timeout, TimeSpan.Zero, nameof(Timeout));
        ArgumentOutOfRangeException.ThrowIfLessThan(ChunkBytes, SnapshotSender.MinChunkBytes, nameof(ChunkBytes));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(ChunkBytes, SnapshotSender.MaxChunkBytes, nameof(ChunkBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(WindowBytes, MinWindowBytes, nameof(WindowBytes));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(WindowBytes, MaxWindowBytes, nameof(WindowBytes));
    }
}
