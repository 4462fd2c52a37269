using ReadHistory.Core.Filters;

namespace ReadHistory.Server.Cache;

/// <summary>
/// One user held by a <see cref="FilterCache"/>: the user's filter, or none when the user is capped (too large for a
/// filter; answered from the database). The fields other than <see cref="Filter"/> belong to the cache's lock,
/// except the CLOCK reference bit, which readers set without it.
/// </summary>
internal sealed class CacheEntry
{
    private int _referenced = 1;

    /// <summary>Creates an entry; a new entry counts as referenced, so the clock hand passes it once.</summary>
    public CacheEntry(ulong userId, UserFilter? filter, long bytes)
    {
        UserId = userId;
        Filter = filter;
        Bytes = bytes;
        LayerCount = filter?.LayerCount ?? 0;
    }

    /// <summary>The user.</summary>
    public ulong UserId { get; }

    /// <summary>The user's filter; null when the user is capped and answered from the database.</summary>
    public UserFilter? Filter { get; }

    /// <summary>True when the user is too large for a filter.</summary>
    public bool IsCapped => Filter is null;

    /// <summary>Bytes charged to the pool for this entry (under the cache's lock).</summary>
    internal long Bytes { get; set; }

    /// <summary>Layers the filter had when <see cref="Bytes"/> was last charged; a change means it grew.</summary>
    internal int LayerCount { get; set; }

    /// <summary>True once evicted or removed (under the cache's lock).</summary>
    internal bool Removed { get; set; }

    /// <summary>The CLOCK bit: set on every use, cleared as the hand passes.</summary>
    internal bool Referenced => Volatile.Read(ref _referenced) != 0;

    /// <summary>Marks the entry used. Writes only when the bit is clear, so hot users do not bounce a cache line between cores.</summary>
    public void Touch()
    {
        if (Volatile.Read(ref _referenced) == 0)
        {
            Volatile.Write(ref _referenced, 1);
        }
    }

    /// <summary>Clears the bit as the clock hand passes; returns whether it was set.</summary>
    internal bool ClearReference() => Interlocked.Exchange(ref _referenced, 0) != 0;
}
