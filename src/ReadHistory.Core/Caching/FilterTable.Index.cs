using System.Numerics;
using System.Runtime.CompilerServices;
using ReadHistory.Core.Filters;

namespace ReadHistory.Core.Caching;

/// <summary>The index: an open-addressing table of held arrays and objects, probed lock-free, mutated under the lock.</summary>
public sealed partial class FilterTable
{
    private const int MinSlots = 16;

    /// <summary>Marks a removed slot, so probes of other users continue past it.</summary>
    private static readonly object Tombstone = new();

    private ulong _salt = (ulong)Random.Shared.NextInt64();
    private object?[] _slots = new object?[MinSlots];
    private int _live;
    private int _tombstones;

    /// <summary>Bytes of the index table now (part of <see cref="Bytes"/>).</summary>
    public long IndexBytes => TableBytes(Volatile.Read(ref _slots).Length);

    /// <summary>Finds a user's entry and marks it used (lock-free).</summary>
    public bool TryGet(ulong userId, out FilterTableEntry entry)
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
                    entry = new FilterTableEntry(words, _shape);
                    return true;
                }
            }
            else if (held is HeldUser user && user.UserId == userId)
            {
                user.Touch();
                entry = new FilterTableEntry(user, _shape);
                return true;
            }
        }
    }

    private static long TableBytes(int slots) => 24 + (8L * slots);

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

    /// <summary>
    /// A user's first slot: the top bits of a salted murmur3 finalizer, so tables of any size under one salt hold users
    /// in the same order. The salt is drawn per table, so two nodes lay users out in unrelated orders: a node filling
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
            return (int)(value >> (64 - BitOperations.Log2((uint)slots)));
        }
    }

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
