using System.Runtime.CompilerServices;
using ReadHistory.Core.Filters;

namespace ReadHistory.Server.Cache;

/// <summary>
/// T1 of one pool: per-user filters (one filter per user over all content types; the filter key holds the type)
/// under a byte budget, evicting whole users by CLOCK (second chance).
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
/// </remarks>
internal sealed class FilterCache
{
    /// <summary>What a capped user (a marker with no filter) is charged: its <see cref="HeldUser"/>, table share aside.</summary>
    public const long CappedEntryBytes = HeldUser.ObjectBytes;

    /// <summary>Most of the table used (live entries and tombstones) before it is rebuilt.</summary>
    public const double MaxLoad = 0.8;

    private const int MinSlots = 16;

    // Slots ahead of the one ranked whose object is asked for (~100 ns of memory latency over a few ns per slot).
    private const int RankPrefetchDistance = 32;

    /// <summary>Marks a removed slot, so probes of other users continue past it.</summary>
    private static readonly object Tombstone = new();

    private readonly Lock _gate = new();
    private readonly FilterShape _shape;
    private ulong _salt = (ulong)Random.Shared.NextInt64();
    private object?[] _slots = new object?[MinSlots];
    private int _live;
    private int _tombstones;
    private int _hand;
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
        _shape = options.Filter.Shape;
        _bytes = TableBytes(_slots.Length);
    }

    /// <summary>The pool's settings.</summary>
    public CacheOptions Options { get; }

    /// <summary>The pool's byte budget.</summary>
    public long BudgetBytes { get; }

    /// <summary>Bytes charged now: every held array and object, and the index table.</summary>
    public long Bytes => Volatile.Read(ref _bytes);

    /// <summary>Bytes of the index table now (part of <see cref="Bytes"/>).</summary>
    public long IndexBytes => TableBytes(Volatile.Read(ref _slots).Length);

    /// <summary>Users held (capped ones included).</summary>
    public int Users => Volatile.Read(ref _live);

    /// <summary>Users held as capped (answered from the database).</summary>
    public int CappedUsers => Volatile.Read(ref _capped);

    /// <summary>Users evicted since start.</summary>
    public long Evictions => Interlocked.Read(ref _evictions);

    /// <summary>The salt of the index hash: the table holds users in the order of their hash under it (see <see cref="Home"/>).</summary>
    public ulong LayoutSalt => Volatile.Read(ref _salt);

    /// <summary>
    /// Takes a peer's index layout for a warm start from it: while this cache holds nothing, hashes users under
    /// <paramref name="salt"/> and sizes the table for <paramref name="users"/> at once, so that users arriving in the
    /// peer's table order each land next to the one before (sequential memory, no table growth) rather than at a random
    /// slot. False, changing nothing, when the cache holds (or held) anyone or the table would not fit in the budget.
    /// Meant for a node that does not serve yet: a lookup racing with it may miss (the caller then rebuilds the user).
    /// </summary>
    public bool TryAdoptLayout(ulong salt, int users)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(users);
        lock (_gate)
        {
            var size = SlotsFor(users);
            if (_live != 0 || _tombstones != 0 || _bytes + TableBytes(size) - TableBytes(_slots.Length) > BudgetBytes)
            {
                return false;
            }

            Volatile.Write(ref _salt, salt);
            _bytes += TableBytes(size) - TableBytes(_slots.Length);
            _hand = 0;
            Volatile.Write(ref _slots, new object?[size]);
            return true;
        }
    }

    /// <summary>Finds a user's entry and marks it used (lock-free).</summary>
    public bool TryGet(ulong userId, out CacheEntry entry)
    {
        var slots = Volatile.Read(ref _slots);
        var mask = slots.Length - 1;
        for (var i = Home(userId, slots.Length); ; i = (i + 1) & mask)
        {
            var held = Volatile.Read(ref slots[i]);
            if (held is null)
            {
                entry = default;
                return false;
            }

            if (HeldObjects.IsWords(held, out var words))
            {
                if (FilterWords.Key(words) == userId)
                {
                    FilterWords.Set(words, FilterWords.ReferencedFlag);
                    entry = new CacheEntry(words, _shape);
                    return true;
                }
            }
            else if (held is HeldUser user && user.UserId == userId)
            {
                user.Touch();
                entry = new CacheEntry(user, _shape);
                return true;
            }
        }
    }

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

    /// <summary>Sets the bits of one read in a held filter, growing (and re-charging) it when its layer is full.</summary>
    public void Add(CacheEntry entry, ushort contentType, ulong contentId)
    {
        if (HeldObjects.IsWords(entry.Held, out var words))
        {
            var outcome = UserFilter.AddHeld(words, _shape, contentType, contentId);
            if (outcome is HeldAdd.Added or HeldAdd.Present)
            {
                return;
            }

            // Full: the array becomes the first layer of a filter object that can grow. Detached: that happened
            // already (or the user left the cache, and then there is nothing to update).
            if (Promote(words) is { Filter: { } grown } user)
            {
                grown.Add(contentType, contentId);
                ChargeGrowth(user, grown);
            }

            return;
        }

        if (entry.Held is HeldUser { Filter: { } filter } held)
        {
            filter.Add(contentType, contentId);
            ChargeGrowth(held, filter);
        }
    }

    /// <summary>Sets the bits of many reads of one type in a held filter (see <see cref="Add"/>).</summary>
    public void AddMany(CacheEntry entry, ushort contentType, ReadOnlySpan<ulong> contentIds)
    {
        foreach (var id in contentIds)
        {
            Add(entry, contentType, id);
        }
    }

    /// <summary>
    /// The held filters (capped markers left out) in CLOCK's own order of value, hottest first: referenced entries
    /// before unreferenced ones, each group from the slot the hand would reach last back to the one it reaches next.
    /// Copies the table under the lock (one reference per slot), so the caller walks it without the lock.
    /// </summary>
    public CacheEntry[] RankHottestFirst()
    {
        object?[] slots;
        int hand;
        int live;
        lock (_gate)
        {
            slots = (object?[])_slots.Clone();
            hand = _hand;
            live = _live;
        }

        // One pass (each entry is a cache miss: its flags live in its own object, anywhere on the heap), the objects
        // asked for a few slots ahead so their fetches overlap. Referenced entries fill the array from the front,
        // unreferenced ones from the back (then reversed into walk order).
        var ranked = new CacheEntry[live];
        var hot = 0;
        var cold = live;
        var mask = slots.Length - 1;
        for (var step = 1; step <= slots.Length; step++)
        {
            MemoryHints.Prefetch(slots[(hand - step - RankPrefetchDistance) & mask]);
            var held = slots[(hand - step) & mask];
            if (held is null || held == Tombstone)
            {
                continue;
            }

            var entry = new CacheEntry(held, _shape);
            if (!entry.Removed && entry.HasFilter)
            {
                if (entry.Referenced)
                {
                    ranked[hot++] = entry;
                }
                else
                {
                    ranked[--cold] = entry;
                }
            }
        }

        Array.Reverse(ranked, cold, live - cold);
        if (hot < cold)
        {
            // Capped markers and entries removed since the copy left a gap between the two groups.
            Array.Copy(ranked, cold, ranked, hot, live - cold);
            Array.Resize(ref ranked, hot + live - cold);
        }

        return ranked;
    }

    /// <summary>
    /// Installs a warm-started filter only if the user is not held and it fits in what is left of the budget: unlike
    /// <see cref="Install(ulong, UserFilter)"/> it evicts nothing, because what arrives later in a warm start is colder
    /// than what is held already.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public WarmStartInstallOutcome TryInstallWarm(ulong userId, UserFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        if (filter.IsCapped)
        {
            return WarmStartInstallOutcome.Skipped;
        }

        lock (_gate)
        {
            if (FindLocked(userId) >= 0)
            {
                return WarmStartInstallOutcome.Skipped;
            }

            var bytes = HoldBytes(filter);
            if (_bytes + bytes + GrowthBytes() > BudgetBytes)
            {
                return WarmStartInstallOutcome.BudgetFull;
            }

            var (held, charged) = Hold(userId, filter);
            InsertLocked(userId, held, charged, evict: false);
            return WarmStartInstallOutcome.Installed;
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

    private static long TableBytes(int slots) => 24 + (8L * slots);

    /// <summary>
    /// A user's first slot: the top bits of a salted murmur3 finalizer, so tables of any size under one salt hold users
    /// in the same order. The salt is drawn per cache, so two nodes lay users out in unrelated orders: a node filling
    /// its growing table from another's table order cannot pile them into one probe cluster (the users cover the hash
    /// range from one end, and a table sized for fewer maps them all to its first slots). A warm start that adopts its
    /// peer's salt (<see cref="TryAdoptLayout"/>) sizes the table for all of them first, so the same order fills it
    /// evenly.
    /// </summary>
    private int Home(ulong userId, int slots)
    {
        unchecked
        {
            var value = userId ^ _salt;
            value ^= value >> 33;
            value *= 0xff51afd7ed558ccdUL;
            value ^= value >> 33;
            value *= 0xc4ceb9fe1a85ec53UL;
            value ^= value >> 33;
            return (int)(value >> (64 - System.Numerics.BitOperations.Log2((uint)slots)));
        }
    }

    /// <summary>A bare array for a one-layer filter of the pool's shape that no slot holds yet; else a <see cref="HeldUser"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private (object Held, long Bytes) Hold(ulong userId, UserFilter filter)
    {
        var words = filter.FirstLayer;
        if (filter.IsSingleLayer && ReferenceEquals(filter.Shape, _shape) && FilterWords.Key(words) == 0)
        {
            FilterWords.Key(words) = userId;
            FilterWords.Set(words, FilterWords.ReferencedFlag);
            return (words, FilterWords.MemoryBytes(words));
        }

        var bytes = HeldUser.ObjectBytes + filter.MemoryBytes;
        return (new HeldUser(userId, filter, bytes), bytes);
    }

    private long HoldBytes(UserFilter filter) =>
        filter.IsSingleLayer && ReferenceEquals(filter.Shape, _shape) && FilterWords.Key(filter.FirstLayer) == 0
            ? FilterWords.MemoryBytes(filter.FirstLayer)
            : HeldUser.ObjectBytes + filter.MemoryBytes;

    /// <summary>Bytes the table would grow by if one more entry went in now (under the lock).</summary>
    private long GrowthBytes() =>
        _live + _tombstones + 1 > MaxLoad * _slots.Length ? TableBytes(SlotsFor(_live + 1)) - TableBytes(_slots.Length) : 0;

    /// <summary>Inserts an entry known to be absent, growing the table first and then evicting to fit (under the lock).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void InsertLocked(ulong userId, object held, long bytes, bool evict)
    {
        if (_live + _tombstones + 1 > MaxLoad * _slots.Length)
        {
            Rehash(SlotsFor(_live + 1));
        }

        if (evict)
        {
            EvictUntil(BudgetBytes - bytes);
        }

        var slots = _slots;
        var mask = slots.Length - 1;
        var i = Home(userId, slots.Length);
        while (slots[i] is not null && slots[i] != Tombstone)
        {
            i = (i + 1) & mask;
        }

        if (slots[i] == Tombstone)
        {
            _tombstones--;
        }

        Volatile.Write(ref slots[i], held);
        _live++;
        _bytes += bytes;
    }

    /// <summary>The slot of a user, or −1 (under the lock).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int FindLocked(ulong userId)
    {
        var slots = _slots;
        var mask = slots.Length - 1;
        for (var i = Home(userId, slots.Length); ; i = (i + 1) & mask)
        {
            var held = slots[i];
            if (held is null)
            {
                return -1;
            }

            if ((HeldObjects.IsWords(held, out var words) && FilterWords.Key(words) == userId) || (held is HeldUser user && user.UserId == userId))
            {
                return i;
            }
        }
    }

    private bool RemoveLocked(ulong userId)
    {
        var slot = FindLocked(userId);
        if (slot < 0)
        {
            return false;
        }

        RemoveAt(slot);
        return true;
    }

    /// <summary>Empties a slot (a tombstone, so other users' probes go on) and uncharges its entry (under the lock).</summary>
    private void RemoveAt(int slot)
    {
        var held = _slots[slot]!;
        Volatile.Write(ref _slots[slot], Tombstone);
        _live--;
        _tombstones++;
        if (HeldObjects.IsWords(held, out var words))
        {
            FilterWords.Set(words, FilterWords.DetachedFlag);
            _bytes -= FilterWords.MemoryBytes(words);
        }
        else
        {
            var user = (HeldUser)held;
            user.Removed = true;
            _bytes -= user.Bytes;
            if (user.Filter is null)
            {
                _capped--;
            }
        }
    }

    /// <summary>
    /// Replaces a full bare array by a <see cref="HeldUser"/> whose filter keeps the array as its first layer and can
    /// grow; returns the user now holding the array, or null when the user left the cache.
    /// </summary>
    private HeldUser? Promote(ulong[] words)
    {
        lock (_gate)
        {
            var slot = FindLocked(FilterWords.Key(words));
            if (slot < 0)
            {
                return null;
            }

            if (_slots[slot] is HeldUser held)
            {
                return held.Filter is { } filter && ReferenceEquals(filter.FirstLayer, words) ? held : null;
            }

            if (!ReferenceEquals(_slots[slot], words))
            {
                return null;
            }

            // Under the array's writer lock, so no writer of the bare array adds after the filter took it over.
            FilterWords.EnterWriter(words);
            FilterWords.Set(words, FilterWords.DetachedFlag);
            FilterWords.ExitWriter(words);
            var grown = UserFilter.Attach(words, _shape);
            var user = new HeldUser(FilterWords.Key(words), grown, HeldUser.ObjectBytes + grown.MemoryBytes);
            Volatile.Write(ref _slots[slot], user);
            _bytes += user.Bytes - FilterWords.MemoryBytes(words);
            return user;
        }
    }

    private void ChargeGrowth(HeldUser user, UserFilter filter)
    {
        // Cheap unlocked test first: a filter's bytes change only when it chains a layer.
        if (filter.LayerCount == user.LayerCount && !filter.IsCapped)
        {
            return;
        }

        lock (_gate)
        {
            if (user.Removed)
            {
                return;
            }

            if (filter.IsCapped)
            {
                // Grown past the per-user cap: its rate is no longer bounded. Keep only the marker.
                RemoveAt(FindLocked(user.UserId));
                InsertLocked(user.UserId, new HeldUser(user.UserId, filter: null, CappedEntryBytes), CappedEntryBytes, evict: true);
                _capped++;
                return;
            }

            var bytes = HeldUser.ObjectBytes + filter.MemoryBytes;
            _bytes += bytes - user.Bytes;
            user.Bytes = bytes;
            user.LayerCount = filter.LayerCount;
            EvictUntil(BudgetBytes, keep: user); // the user whose write is being applied stays
        }
    }

    /// <summary>Evicts by CLOCK until at most <paramref name="target"/> bytes are charged, sparing <paramref name="keep"/> (under the lock).</summary>
    private void EvictUntil(long target, object? keep = null)
    {
        // Each entry gets at most one second chance per call: after two full turns of the hand every bit met was
        // cleared once, so the loop ends even while readers keep setting bits.
        var slots = _slots;
        var mask = slots.Length - 1;
        var secondChances = 2L * slots.Length;
        var spared = keep is null ? 0 : 1;
        while (_bytes > target && _live > spared)
        {
            var slot = _hand;
            _hand = (_hand + 1) & mask;
            var held = slots[slot];
            if (held is null || held == Tombstone || ReferenceEquals(held, keep))
            {
                continue;
            }

            var referenced = HeldObjects.IsWords(held, out var words)
                ? FilterWords.Clear(words, FilterWords.ReferencedFlag)
                : ((HeldUser)held).ClearReference();
            if (secondChances-- > 0 && referenced)
            {
                continue;
            }

            RemoveAt(slot);
            _evictions++;
        }
    }

    /// <summary>Slots for <paramref name="entries"/> entries: a power of two at most <see cref="MaxLoad"/> full, with room for an eighth more before the next rebuild.</summary>
    private static int SlotsFor(int entries)
    {
        var slots = MinSlots;
        while (entries > MaxLoad * slots || entries + (slots / 8) > MaxLoad * slots)
        {
            slots *= 2;
        }

        return slots;
    }

    /// <summary>Moves the live entries to a new table (dropping tombstones) and publishes it (under the lock).</summary>
    private void Rehash(int size)
    {
        var old = _slots;
        var slots = new object?[size];
        var mask = size - 1;
        foreach (var held in old)
        {
            if (held is null || held == Tombstone)
            {
                continue;
            }

            var userId = HeldObjects.IsWords(held, out var words) ? FilterWords.Key(words) : ((HeldUser)held).UserId;
            var i = Home(userId, size);
            while (slots[i] is not null)
            {
                i = (i + 1) & mask;
            }

            slots[i] = held;
        }

        _bytes += TableBytes(size) - TableBytes(old.Length);
        _tombstones = 0;
        _hand = 0;
        Volatile.Write(ref _slots, slots);
    }
}
