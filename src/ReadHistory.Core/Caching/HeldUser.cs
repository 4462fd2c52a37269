using ReadHistory.Core.Filters;

namespace ReadHistory.Core.Caching;

/// <summary>
/// A user a <see cref="FilterTable"/> holds as an object rather than a bare first-layer array: a grown filter (more
/// than one layer), a filter of another shape (a peer's snapshot), or a capped marker (no filter; answered from the
/// database). The common one-layer user has no such object.
/// </summary>
internal sealed class HeldUser(ulong userId, UserFilter? filter, long bytes)
{
    /// <summary>Heap bytes of this object: header + user id, filter ref, bytes (8 each), layer count and reference bit (4 each), removed flag, padded to 8.</summary>
    public const int ObjectBytes = 16 + 8 + 8 + 8 + 4 + 4 + 8;

    private int _referenced = 1;

    /// <summary>The user.</summary>
    public ulong UserId { get; } = userId;

    /// <summary>The filter; null for a capped user.</summary>
    public UserFilter? Filter { get; } = filter;

    /// <summary>Bytes charged to the pool (under the table's lock).</summary>
    public long Bytes { get; set; } = bytes;

    /// <summary>Layers the filter had when <see cref="Bytes"/> was last charged; a change means it grew.</summary>
    public int LayerCount { get; set; } = filter?.LayerCount ?? 0;

    /// <summary>True once evicted or removed (under the table's lock).</summary>
    public bool Removed { get; set; }

    /// <summary>The CLOCK bit.</summary>
    public bool Referenced => Volatile.Read(ref _referenced) != 0;

    /// <summary>Marks the user used; writes only when the bit is clear, so hot users do not bounce a cache line.</summary>
    public void Touch()
    {
        if (Volatile.Read(ref _referenced) == 0)
        {
            Volatile.Write(ref _referenced, 1);
        }
    }

    /// <summary>Clears the bit as the clock hand passes; returns whether it was set.</summary>
    public bool ClearReference() => Interlocked.Exchange(ref _referenced, 0) != 0;
}
