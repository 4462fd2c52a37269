using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using ReadHistory.Core.Filters;

namespace ReadHistory.Server.Cache;

/// <summary>
/// T1 of one pool: per-user filters (one filter per user over all content types; the filter key holds the type)
/// under a byte budget, evicting whole users by CLOCK (second chance).
/// </summary>
/// <remarks>
/// Lookups are lock-free (a dictionary read and a reference bit). Installs, removals and the re-charging of a filter
/// that grew a layer take one lock and evict under it until the pool is back under budget, so the budget is exceeded
/// only between a filter's growth and its re-charge: by at most the one layer that grew. Bytes are the filters' own
/// heap accounting (<see cref="UserFilter.MemoryBytes"/>); a capped user is charged <see cref="CappedEntryBytes"/>.
/// </remarks>
internal sealed class FilterCache
{
    /// <summary>What a capped user (a marker with no filter) is charged: the entry and its dictionary node.</summary>
    public const long CappedEntryBytes = 96;

    private readonly ConcurrentDictionary<ulong, CacheEntry> _entries = new();
    private readonly Queue<CacheEntry> _clock = new();
    private readonly Lock _gate = new();
    private long _bytes;
    private long _evictions;
    private int _capped;

    /// <summary>Creates an empty cache for one pool.</summary>
    public FilterCache(CacheOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        BudgetBytes = options.BudgetBytes;
    }

    /// <summary>The pool's settings.</summary>
    public CacheOptions Options { get; }

    /// <summary>The pool's byte budget.</summary>
    public long BudgetBytes { get; }

    /// <summary>Bytes charged now.</summary>
    public long Bytes => Volatile.Read(ref _bytes);

    /// <summary>Users held (capped ones included).</summary>
    public int Users => _entries.Count;

    /// <summary>Users held as capped (answered from the database).</summary>
    public int CappedUsers => Volatile.Read(ref _capped);

    /// <summary>Users evicted since start.</summary>
    public long Evictions => Interlocked.Read(ref _evictions);

    /// <summary>Finds a user's entry and marks it used.</summary>
    public bool TryGet(ulong userId, [NotNullWhen(true)] out CacheEntry? entry)
    {
        if (_entries.TryGetValue(userId, out entry))
        {
            entry.Touch();
            return true;
        }

        return false;
    }

    /// <summary>
    /// Installs a user's filter, replacing any entry of the user, evicting others until it fits. A filter larger than
    /// the whole budget, or one that is capped, is installed as a capped marker instead; returns false then.
    /// </summary>
    public bool Install(ulong userId, UserFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var bytes = filter.MemoryBytes;
        if (filter.IsCapped || bytes > BudgetBytes)
        {
            InstallCapped(userId);
            return false;
        }

        Install(new CacheEntry(userId, filter, bytes));
        return true;
    }

    /// <summary>Marks a user as too large for a filter: lookups find it and go to the database without a rebuild.</summary>
    public void InstallCapped(ulong userId) => Install(new CacheEntry(userId, filter: null, CappedEntryBytes));

    /// <summary>Drops a user's entry; returns whether there was one.</summary>
    public bool Remove(ulong userId)
    {
        lock (_gate)
        {
            if (!_entries.TryRemove(userId, out var entry))
            {
                return false;
            }

            Detach(entry);
            return true;
        }
    }

    /// <summary>Sets the bits of one read in a held filter, re-charging it if it grew.</summary>
    public void Add(CacheEntry entry, ushort contentType, ulong contentId)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (entry.Filter is { } filter)
        {
            filter.Add(contentType, contentId);
            ChargeGrowth(entry, filter);
        }
    }

    /// <summary>Sets the bits of many reads of one type in a held filter, re-charging it if it grew.</summary>
    public void AddMany(CacheEntry entry, ushort contentType, ReadOnlySpan<ulong> contentIds)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (entry.Filter is { } filter)
        {
            filter.AddMany(contentType, contentIds);
            ChargeGrowth(entry, filter);
        }
    }

    /// <summary>
    /// The held filters (capped markers left out) in CLOCK's own order of value, hottest first: referenced entries
    /// before unreferenced ones, each group from the tail of the clock queue (the last the hand would evict) to its
    /// head. Copies the queue under the lock (one reference per user), so the caller walks it without the lock.
    /// </summary>
    public CacheEntry[] RankHottestFirst()
    {
        CacheEntry[] queue;
        lock (_gate)
        {
            queue = _clock.ToArray();
        }

        var ranked = new CacheEntry[queue.Length];
        var count = 0;
        for (var pass = 0; pass < 2; pass++)
        {
            var referenced = pass == 0;
            for (var i = queue.Length - 1; i >= 0; i--)
            {
                var entry = queue[i];
                if (!entry.Removed && !entry.IsCapped && entry.Referenced == referenced)
                {
                    ranked[count++] = entry;
                }
            }
        }

        return count == ranked.Length ? ranked : ranked[..count];
    }

    /// <summary>
    /// Installs a warm-started filter only if the user is not held and it fits in what is left of the budget: unlike
    /// <see cref="Install(ulong, UserFilter)"/> it evicts nothing, because what arrives later in a warm start is colder
    /// than what is held already.
    /// </summary>
    public WarmStartInstallOutcome TryInstallWarm(ulong userId, UserFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        if (filter.IsCapped)
        {
            return WarmStartInstallOutcome.Skipped;
        }

        var entry = new CacheEntry(userId, filter, filter.MemoryBytes);
        lock (_gate)
        {
            if (_entries.ContainsKey(userId))
            {
                return WarmStartInstallOutcome.Skipped;
            }

            if (_bytes + entry.Bytes > BudgetBytes)
            {
                return WarmStartInstallOutcome.BudgetFull;
            }

            CompactClock();
            _entries[userId] = entry;
            _clock.Enqueue(entry);
            _bytes += entry.Bytes;
            return WarmStartInstallOutcome.Installed;
        }
    }

    /// <summary>The mean estimated false-positive rate over up to <paramref name="sample"/> held filters (0 when none).</summary>
    public double EstimateFalsePositiveRate(int sample = 4096)
    {
        double sum = 0;
        var seen = 0;
        foreach (var pair in _entries)
        {
            if (pair.Value.Filter is { } filter)
            {
                sum += filter.EstimatedFalsePositiveRate;
                if (++seen >= sample)
                {
                    break;
                }
            }
        }

        return seen == 0 ? 0 : sum / seen;
    }

    private void Install(CacheEntry entry)
    {
        lock (_gate)
        {
            if (_entries.TryRemove(entry.UserId, out var old))
            {
                Detach(old);
            }

            CompactClock();
            EvictUntil(BudgetBytes - entry.Bytes);
            _entries[entry.UserId] = entry;
            _clock.Enqueue(entry);
            _bytes += entry.Bytes;
            if (entry.IsCapped)
            {
                _capped++;
            }
        }
    }

    private void ChargeGrowth(CacheEntry entry, UserFilter filter)
    {
        // Cheap unlocked test first: a filter's bytes change only when it chains a layer.
        if (filter.LayerCount == entry.LayerCount && !filter.IsCapped)
        {
            return;
        }

        lock (_gate)
        {
            if (entry.Removed)
            {
                return;
            }

            if (filter.IsCapped)
            {
                // Grown past the per-user cap: its rate is no longer bounded. Keep only the marker.
                _entries.TryRemove(new KeyValuePair<ulong, CacheEntry>(entry.UserId, entry));
                Detach(entry);
                var marker = new CacheEntry(entry.UserId, filter: null, CappedEntryBytes);
                EvictUntil(BudgetBytes - marker.Bytes);
                _entries[marker.UserId] = marker;
                _clock.Enqueue(marker);
                _bytes += marker.Bytes;
                _capped++;
                return;
            }

            var bytes = filter.MemoryBytes;
            _bytes += bytes - entry.Bytes;
            entry.Bytes = bytes;
            entry.LayerCount = filter.LayerCount;
            EvictUntil(BudgetBytes);
        }
    }

    /// <summary>Evicts by CLOCK until at most <paramref name="target"/> bytes are charged (under the lock).</summary>
    private void EvictUntil(long target)
    {
        // Each entry gets at most one second chance per call: after two full turns of the hand every bit met was
        // cleared once, so the loop ends even while readers keep setting bits.
        var budgetOfSteps = 2 * (long)_clock.Count + 1;
        while (_bytes > target && _clock.TryDequeue(out var candidate))
        {
            if (candidate.Removed)
            {
                continue;
            }

            if (budgetOfSteps-- > 0 && candidate.ClearReference())
            {
                _clock.Enqueue(candidate);
                continue;
            }

            _entries.TryRemove(new KeyValuePair<ulong, CacheEntry>(candidate.UserId, candidate));
            Detach(candidate);
            _evictions++;
        }
    }

    /// <summary>Drops removed entries from the clock queue once they outnumber the live ones (under the lock).</summary>
    private void CompactClock()
    {
        if (_clock.Count <= (2 * _entries.Count) + 64)
        {
            return;
        }

        for (var i = _clock.Count; i > 0; i--)
        {
            var entry = _clock.Dequeue();
            if (!entry.Removed)
            {
                _clock.Enqueue(entry);
            }
        }
    }

    /// <summary>Uncharges an entry that left the dictionary; the clock queue drops it lazily (under the lock).</summary>
    private void Detach(CacheEntry entry)
    {
        entry.Removed = true;
        _bytes -= entry.Bytes;
        if (entry.IsCapped)
        {
            _capped--;
        }
    }
}
