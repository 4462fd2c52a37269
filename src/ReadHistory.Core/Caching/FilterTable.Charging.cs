using System.Runtime.CompilerServices;
using ReadHistory.Core.Filters;

namespace ReadHistory.Core.Caching;

/// <summary>Byte accounting: how a filter is held and charged, and how a held filter grows and is re-charged.</summary>
public sealed partial class FilterTable
{
    /// <summary>Sets the bits of one read in a held filter, growing (and re-charging) it when its layer is full.</summary>
    public void Add(FilterTableEntry entry, ushort contentType, ulong contentId)
    {
        if (HeldObjects.IsWords(entry.Held, out var words))
        {
            var outcome = UserFilter.AddHeld(words, _shape, contentType, contentId);
            if (outcome is HeldAdd.Added or HeldAdd.Present)
            {
                return;
            }

            // Full: the array becomes the first layer of a filter object that can grow. Detached: that happened
            // already (or the user left the table, and then there is nothing to update).
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
    public void AddMany(FilterTableEntry entry, ushort contentType, ReadOnlySpan<ulong> contentIds)
    {
        foreach (var id in contentIds)
        {
            Add(entry, contentType, id);
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

    /// <summary>
    /// Replaces a full bare array by a <see cref="HeldUser"/> whose filter keeps the array as its first layer and can
    /// grow; returns the user now holding the array, or null when the user left the table.
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
}
