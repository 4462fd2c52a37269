using ReadHistory.Core.Filters;

namespace ReadHistory.Core.Caching;

/// <summary>
/// T1 of one pool: per-user filters (one filter per user over all content types; the filter key holds the type)
/// under a byte budget, evicting whole users by CLOCK (second chance). No I/O: the server's read-through logic decides
/// what goes in and when.
/// </summary>
/// <remarks>
/// Memory: a one-layer filter of the pool's shape (the common user) is held as its bare first-layer array, whose
/// header carries the user id, the CLOCK bit and the writer lock (<see cref="FilterWords"/>); the index is an
/// open-addressing table of references (linear probing, at most <see cref="MaxLoad"/> full). So such a user costs its
/// bits plus the array header (24 bytes), two header words (16) and its share of the table (8 / load: 10–24 bytes).
/// Other users (grown, a peer's shape, capped) are held as a <see cref="HeldUser"/> object, charged on top of their
/// filter. Everything is charged: arrays, objects, and the table itself, so <see cref="Bytes"/> is the heap the
/// pool holds (a test compares it with the runtime's own count).
/// Concurrency: lookups are lock-free (one volatile read of the table, then a probe). Installs, removals, growth
/// re-charges and table resizes take one lock and evict under it until the pool is back under budget; the table is
/// only mutated in place by single-reference writes, and a resize publishes a new table, so a reader sees an entry
/// or its absence, never a torn one. The budget is exceeded only between a filter's growth and its re-charge: by at
/// most the one layer that grew.
/// The concerns live in partial files: the index (<c>FilterTable.Index.cs</c>), byte charging and growth
/// (<c>FilterTable.Charging.cs</c>), CLOCK eviction and ranking (<c>FilterTable.Eviction.cs</c>), warm-start layout
/// adoption and installs (<c>FilterTable.WarmStart.cs</c>).
/// </remarks>
public sealed partial class FilterTable
{
    /// <summary>What a capped user (a marker with no filter) is charged: its <see cref="HeldUser"/>, table share aside.</summary>
    public const long CappedEntryBytes = HeldUser.ObjectBytes;

    /// <summary>Most of the table used (live entries and tombstones) before it is rebuilt.</summary>
    public const double MaxLoad = 0.8;

    private readonly Lock _gate = new();
    private readonly FilterShape _shape;
    private long _bytes;
    private long _evictions;
    private int _capped;

    /// <summary>Creates an empty table for one pool: at most <paramref name="budgetBytes"/> bytes of filters sized by <paramref name="filterOptions"/>.</summary>
    public FilterTable(long budgetBytes, BloomFilterOptions filterOptions)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(budgetBytes, 1);
        ArgumentNullException.ThrowIfNull(filterOptions);
        BudgetBytes = budgetBytes;
        FilterOptions = filterOptions;
        _shape = filterOptions.Shape;
        _bytes = TableBytes(_slots.Length);
    }

    /// <summary>The pool's byte budget.</summary>
    public long BudgetBytes { get; }

    /// <summary>How the pool's filters are sized (a one-layer filter of this shape is held as its bare array).</summary>
    public BloomFilterOptions FilterOptions { get; }

    /// <summary>Bytes charged now: every held array and object, and the index table.</summary>
    public long Bytes => Volatile.Read(ref _bytes);

    /// <summary>Users held (capped ones included).</summary>
    public int Users => Volatile.Read(ref _live);

    /// <summary>Users held as capped (answered from the database).</summary>
    public int CappedUsers => Volatile.Read(ref _capped);

    /// <summary>Users evicted since start.</summary>
    public long Evictions => Interlocked.Read(ref _evictions);

    /// <summary>
    /// Installs a user's filter, replacing any entry of the user, evicting others until it fits. A filter larger than
    /// the whole budget, or one that is capped, is installed as a capped marker instead; returns false then. The
    /// caller hands the filter over: it must not write to it afterwards except through <see cref="Add"/>.
    /// </summary>
    public bool Install(ulong userId, UserFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        if (filter.IsCapped || filter.MemoryBytes > BudgetBytes)
        {
            InstallCapped(userId);
            return false;
        }

        lock (_gate)
        {
            RemoveLocked(userId);
            var (held, bytes) = Hold(userId, filter);
            InsertLocked(userId, held, bytes, evict: true);
        }

        return true;
    }

    /// <summary>Marks a user as too large for a filter: lookups find it and go to the database without a rebuild.</summary>
    public void InstallCapped(ulong userId)
    {
        lock (_gate)
        {
            RemoveLocked(userId);
            InsertLocked(userId, new HeldUser(userId, filter: null, CappedEntryBytes), CappedEntryBytes, evict: true);
            _capped++;
        }
    }

    /// <summary>Drops a user's entry; returns whether there was one.</summary>
    public bool Remove(ulong userId)
    {
        lock (_gate)
        {
            return RemoveLocked(userId);
        }
    }

    /// <summary>The mean estimated false-positive rate over up to <paramref name="sample"/> held filters (0 when none).</summary>
    public double EstimateFalsePositiveRate(int sample = 4096)
    {
        double sum = 0;
        var seen = 0;
        var slots = Volatile.Read(ref _slots);
        for (var i = 0; i < slots.Length && seen < sample; i++)
        {
            switch (Volatile.Read(ref slots[i]))
            {
                case ulong[] words:
                    sum += UserFilter.FirstLayerRate(words, _shape);
                    seen++;
                    break;
                case HeldUser { Filter: { } filter }:
                    sum += filter.EstimatedFalsePositiveRate;
                    seen++;
                    break;
            }
        }

        return seen == 0 ? 0 : sum / seen;
    }
}
