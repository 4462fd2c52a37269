namespace ReadHistory.Core.Filters;

/// <summary>Adds: under the first layer's writer lock, growing a layer when the last one is full.</summary>
public sealed partial class UserFilter
{
    /// <summary>
    /// Adds a key to a one-layer filter held as its bare first-layer array (a cache's compact form). Never grows: a
    /// full layer answers <see cref="HeldAdd.Full"/>, and the holder then attaches a <see cref="UserFilter"/> to the
    /// array (<see cref="Attach"/>), marks the array detached, and adds through the filter.
    /// </summary>
    internal static unsafe HeldAdd AddHeld(ulong[] words, FilterShape shape, ushort contentType, ulong contentId)
    {
        var hash = shape.Hash.Compute(contentType, contentId);
        FilterWords.EnterWriter(words);
        try
        {
            var flags = FilterWords.Flags(words);
            if ((flags & FilterWords.DetachedFlag) != 0)
            {
                return HeldAdd.Detached;
            }

            if ((flags & FilterWords.FuseFlag) != 0)
            {
                // An immutable base: a key it holds is present; any other needs a delta layer, which a bare array cannot grow.
                return FuseLayer.Contains(words, hash) ? HeldAdd.Present : HeldAdd.Full;
            }

            var blockCount = FilterWords.BlockCount(words);
            if (FilterWords.Count(words) >= FilterWords.FirstCapacity(words) && (flags & FilterWords.CappedFlag) == 0)
            {
                return HeldAdd.Full;
            }

            bool changed;
            fixed (ulong* blocks = &words[FilterWords.HeaderWords])
            {
                changed = BlockProbe.AddExclusive(blocks, blockCount, shape.Probes, hash);
            }

            if (changed)
            {
                FilterWords.Increment(words);
            }

            return changed ? HeldAdd.Added : HeldAdd.Present;
        }
        finally
        {
            FilterWords.ExitWriter(words);
        }
    }

    private bool Add(ulong hash, bool synchronized)
    {
        if (synchronized)
        {
            FilterWords.EnterWriter(_words);
        }

        try
        {
            return AddLocked(hash);
        }
        finally
        {
            if (synchronized)
            {
                FilterWords.ExitWriter(_words);
            }
        }
    }

    /// <summary>The add, with the writer lock held (or the filter not yet shared).</summary>
    private unsafe bool AddLocked(ulong hash)
    {
        var grown = _grown;
        if (grown is null && FilterWords.IsFuse(_words))
        {
            if (FuseLayer.Contains(_words, hash))
            {
                return false;
            }

            // A fuse base takes no adds: the first key it does not hold opens the delta (Grow always makes it).
            grown = Grow(grown);
        }
        else if (LastIsFull(grown) && !IsCapped)
        {
            // The writer that finds the last layer full grows the filter before adding: an overfilled layer would
            // answer "present" to nearly every key and so stop the growth itself. Other writers wait on the lock.
            grown = Grow(grown);
        }

        if (grown is null)
        {
            bool changed;
            fixed (ulong* blocks = &_words[FilterWords.HeaderWords])
            {
                changed = BlockProbe.AddExclusive(blocks, FilterWords.BlockCount(_words), _shape.Probes, hash);
            }

            if (changed)
            {
                FilterWords.Increment(_words);
            }

            return changed;
        }

        // A key any older layer reports is not added again (so replays and re-reads do not use up capacity);
        // the last layer answers the same question itself: its Add is false when every bit was set already.
        if (FirstLayerContains(_words, _shape, hash))
        {
            return false;
        }

        for (var i = 0; i < grown.Length - 1; i++)
        {
            if (grown[i].MightContain(LayerHash(hash, i + 1)))
            {
                return false;
            }
        }

        return grown[^1].AddExclusive(LayerHash(hash, grown.Length));
    }

    private bool LastIsFull(BlockedBloomFilter[]? grown)
    {
        if (grown is null)
        {
            return FilterWords.Count(_words) >= FirstCapacity;
        }

        var last = grown[^1];
        return last.Count >= last.Capacity;
    }

    /// <summary>Chains a new layer (or marks the filter capped) under the writer lock; returns the grown layers now in use.</summary>
    private BlockedBloomFilter[]? Grow(BlockedBloomFilter[]? grown)
    {
        var used = BitBytes;
        var layerCount = 1 + (grown?.Length ?? 0);
        var lastCapacity = grown is null ? FirstCapacity : grown[^1].Capacity;
        var capacity = Math.Max((long)Math.Ceiling(lastCapacity * Options.GrowthFactor), lastCapacity + 1);
        var budget = Options.MaxBytes - used;
        if (grown is null && FilterWords.IsFuse(_words))
        {
            // The delta of a fuse base starts at a sixteenth of the rows (at least a whole block's worth) and doubles from
            // there: reads after a rebuild are few, and the next rebuild folds them in. It always gets one block, so the
            // immutable base is never asked to take a key.
            capacity = Math.Max((long)Math.Ceiling(FirstCapacity / 16.0), (long)Options.Plan(1).ItemsPerBlock);
            budget = Math.Max(budget, BlockProbe.BlockBytes);
        }

        var next = layerCount < BloomFilterOptions.MaxLayers ? NewLayer(layerCount, capacity, budget, Options) : null;
        if (next is null)
        {
            FilterWords.Set(_words, FilterWords.CappedFlag);
            return grown;
        }

        var longer = new BlockedBloomFilter[layerCount];
        grown?.CopyTo(longer, 0);
        longer[^1] = next;
        Volatile.Write(ref _grown, longer);
        return longer;
    }

    /// <summary>A grown layer for <paramref name="capacity"/> items at the rate of layer <paramref name="index"/>, shrunk to the byte budget; null if not one block fits.</summary>
    private static BlockedBloomFilter? NewLayer(int index, long capacity, long budgetBytes, BloomFilterOptions options)
    {
        var plan = options.Plan(index);
        var blocks = LayerBlocks(plan, capacity, budgetBytes);
        if (blocks < 1)
        {
            return null;
        }

        capacity = Math.Min(capacity, FilterMath.CapacityOf(blocks, plan));
        return new BlockedBloomFilter((int)blocks, plan.Probes, capacity, options.LayerFalsePositiveRate(index));
    }
}

/// <summary>What <see cref="UserFilter.AddHeld"/> did.</summary>
internal enum HeldAdd
{
    /// <summary>The key changed the layer.</summary>
    Added,

    /// <summary>Every bit of the key was set already.</summary>
    Present,

    /// <summary>The layer is full: the filter must grow, which a bare array cannot.</summary>
    Full,

    /// <summary>The holder replaced this array by a grown filter; add through that one.</summary>
    Detached,
}
