using ReadHistory.Core.Filters;

namespace ReadHistory.Core.Caching;

/// <summary>CLOCK (second chance): the hand that evicts under the budget, and the ranking that follows its order.</summary>
public sealed partial class FilterTable
{
    // Slots ahead of the one ranked whose object is asked for (~100 ns of memory latency over a few ns per slot).
    private const int RankPrefetchDistance = 32;

    private int _hand;

    /// <summary>
    /// Called under the table's lock for each user with a filter that the budget evicts, just before it leaves the
    /// table (so no write to it has been refused yet): the second tier's write-back. Must only hand the entry on.
    /// </summary>
    public Action<FilterTableEntry>? Evicting { get; set; }

    /// <summary>
    /// The held filters (capped markers left out) in CLOCK's own order of value, hottest first: referenced entries
    /// before unreferenced ones, each group from the slot the hand would reach last back to the one it reaches next.
    /// Copies the table under the lock (one reference per slot), so the caller walks it without the lock.
    /// </summary>
    public FilterTableEntry[] RankHottestFirst()
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
        var ranked = new FilterTableEntry[live];
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

            var entry = new FilterTableEntry(held, _shape);
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

            if (Evicting is { } evicting && (HeldObjects.IsWords(held) || ((HeldUser)held).Filter is not null))
            {
                evicting(new FilterTableEntry(held, _shape));
            }

            RemoveAt(slot);
            _evictions++;
        }
    }
}
