using ReadHistory.Server.Cache;

namespace ReadHistory.Server.Coherence;

/// <summary>The bounds of the peer fan-out (from ReadHistory:Cache; tests make their own).</summary>
internal sealed record PeerFanOutSettings(TimeSpan Wait, int MaxQueuedChanges, int MaxChangesPerCall, TimeSpan CallTimeout)
{
    /// <summary>First backoff after a failed call; doubles per failure up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan MinBackoff { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Longest backoff: a peer that stays down costs one failing call per 5 s (its changes dropped and counted
    /// meanwhile), and a peer that comes back is written to again within 5 s.
    /// </summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The configured bounds.</summary>
    public static PeerFanOutSettings From(CacheNodeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new(options.PeerFanOutWait, options.PeerFanOutMaxQueuedChanges, options.PeerFanOutMaxChangesPerCall, options.PeerFanOutCallTimeout);
    }
}
