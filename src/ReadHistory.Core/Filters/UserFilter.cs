using System.Runtime.CompilerServices;
using ReadHistory.Core.Hashing;

namespace ReadHistory.Core.Filters;

/// <summary>
/// One user's read history as a scalable Bloom filter (Almeida et al., 2007): a chain of
/// <see cref="BlockedBloomFilter"/> layers, each ×<see cref="BloomFilterOptions.GrowthFactor"/> the capacity of
/// the one before and designed for a rate ×<see cref="BloomFilterOptions.TighteningRatio"/> tighter, so the
/// compound false-positive rate stays under the pool's target however far the user grows past the first sizing.
/// </summary>
/// <remarks>
/// Thread safety: any number of readers and writers at once. Writers take a one-word writer lock (a compare-exchange)
/// and set bits with plain 8-byte stores of a superset of each word's old bits, so writers lose no update and a
/// lock-free reader sees each word old or new, never with a set bit cleared. A new layer is published by a volatile
/// write of a new layer array that still holds every old layer, so a reader sees either the old or the new set of
/// layers, and both hold every bit set before; no race yields a false negative.
/// Past <see cref="BloomFilterOptions.MaxBytes"/> the filter stops growing and reports <see cref="IsCapped"/>: it
/// still sets bits (no false negatives), but its rate is no longer bounded, and the caller should answer from the
/// database (and rebuild with a larger budget or not at all).
/// </remarks>
public sealed partial class UserFilter
{
    private readonly BloomFilterOptions _options;
    private readonly ContentHash _hash;
    private BlockedBloomFilter[] _layers;
    private int _growing;
    private int _capped;
    private int _writer;

    private UserFilter(BloomFilterOptions options, ulong seed, BlockedBloomFilter[] layers, bool capped)
    {
        _options = options;
        _hash = new ContentHash(seed);
        _layers = layers;
        _capped = capped ? 1 : 0;
    }

    /// <summary>Creates an empty single-layer filter sized for <paramref name="expectedItems"/> plus the options' headroom.</summary>
    public static UserFilter Create(long expectedItems, BloomFilterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var layer = NewLayer(0, options.CapacityFor(expectedItems), options.MaxBytes, options);
        return new UserFilter(options, options.Seed, [layer!], capped: false);
    }

    /// <summary>Builds a fresh single-layer filter from a user's rows (<paramref name="rowCount"/> of them expected): the rebuild that folds grown layers back into one.</summary>
    public static UserFilter Rebuild(long rowCount, IEnumerable<ContentKey> rows, BloomFilterOptions options)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var filter = Create(rowCount, options);
        foreach (var row in rows)
        {
            filter.Add(filter._hash.Compute(row.Type, row.Id), synchronized: false);
        }

        return filter;
    }

    /// <summary>Builds a fresh single-layer filter from a batch of a user's rows (the rebuild, without enumerator calls).</summary>
    public static UserFilter Rebuild(ReadOnlySpan<ContentKey> rows, BloomFilterOptions options)
    {
        var filter = Create(rows.Length, options);
        foreach (var row in rows)
        {
            filter.Add(filter._hash.Compute(row.Type, row.Id), synchronized: false);
        }

        return filter;
    }

    /// <summary>The options this filter grows by.</summary>
    public BloomFilterOptions Options => _options;

    /// <summary>The seed of this filter's key hash.</summary>
    public ulong Seed => _hash.Seed;

    /// <summary>Keys added that changed the filter, over all layers (re-adding a key present already does not count).</summary>
    public long Count
    {
        get
        {
            long count = 0;
            foreach (var layer in Volatile.Read(ref _layers))
            {
                count += layer.Count;
            }

            return count;
        }
    }

    /// <summary>Items all layers hold at their design rates.</summary>
    public long Capacity
    {
        get
        {
            long capacity = 0;
            foreach (var layer in Volatile.Read(ref _layers))
            {
                capacity += layer.Capacity;
            }

            return capacity;
        }
    }

    /// <summary>Number of layers (1 after a rebuild).</summary>
    public int LayerCount => Volatile.Read(ref _layers).Length;

    /// <summary>The layers, oldest first (the current set; internal because a layer's own Add bypasses the layer hash).</summary>
    internal IReadOnlyList<BlockedBloomFilter> Layers => Volatile.Read(ref _layers);

    /// <summary>True once the filter outgrew <see cref="BloomFilterOptions.MaxBytes"/>: its rate is no longer bounded; answer from the database.</summary>
    public bool IsCapped => Volatile.Read(ref _capped) != 0;

    /// <summary>Bytes of bit arrays over all layers.</summary>
    public long BitBytes
    {
        get
        {
            long bytes = 0;
            foreach (var layer in Volatile.Read(ref _layers))
            {
                bytes += layer.BitBytes;
            }

            return bytes;
        }
    }

    /// <summary>Bytes this filter holds on the managed heap: this object, the layer array, each layer and its bits (see <see cref="FilterMemory"/>).</summary>
    public long MemoryBytes
    {
        get
        {
            var layers = Volatile.Read(ref _layers);
            var bytes = FilterMemory.UserFilterObjectBytes + FilterMemory.ArrayBytes(layers.Length);
            foreach (var layer in layers)
            {
                bytes += layer.MemoryBytes;
            }

            return bytes;
        }
    }

    /// <summary>The compound rate the model predicts at the current counts: 1 − Π (1 − rate of layer i).</summary>
    public double EstimatedFalsePositiveRate
    {
        get
        {
            var miss = 1.0;
            foreach (var layer in Volatile.Read(ref _layers))
            {
                miss *= 1 - layer.EstimatedFalsePositiveRate;
            }

            return 1 - miss;
        }
    }

    /// <summary>Records a read; true when the filter changed (false: the key was reported present already).</summary>
    public bool Add(ushort contentType, ulong contentId) => Add(_hash.Compute(contentType, contentId), synchronized: true);

    /// <summary>Records many reads of one content type; returns how many changed the filter.</summary>
    public int AddMany(ushort contentType, ReadOnlySpan<ulong> contentIds)
    {
        var added = 0;
        foreach (var id in contentIds)
        {
            added += Add(_hash.Compute(contentType, id), synchronized: true) ? 1 : 0;
        }

        return added;
    }

    /// <summary>False: the user has certainly not read it. True: read, or a false positive at the pool's rate.</summary>
    public bool MightContain(ushort contentType, ulong contentId) =>
        Contains(Volatile.Read(ref _layers), _hash.Compute(contentType, contentId));

    /// <summary>
    /// Checks many ids of one content type into <paramref name="bitmap"/> (bit i at byte i / 8, bit i % 8, LSB
    /// first, set = ids[i] possibly read; the API's read_bitmap) and returns how many are certainly unread.
    /// </summary>
    public int CheckMany(ushort contentType, ReadOnlySpan<ulong> contentIds, Span<byte> bitmap) =>
        CheckMany(contentType, contentIds, bitmap, ProbePaths.Best);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong LayerHash(ulong hash, int layer)
    {
        if (layer == 0)
        {
            return hash;
        }

        // Each later layer sees an independent-looking hash (murmur3's fmix64 of a salted key hash), so a key
        // whose probe pattern is unlucky in one layer is not unlucky in all of them.
        unchecked
        {
            var value = hash + ((ulong)layer * 0x9E3779B97F4A7C15UL);
            value ^= value >> 33;
            value *= 0xff51afd7ed558ccdUL;
            value ^= value >> 33;
            value *= 0xc4ceb9fe1a85ec53UL;
            value ^= value >> 33;
            return value;
        }
    }

    private static bool Contains(BlockedBloomFilter[] layers, ulong hash)
    {
        for (var i = 0; i < layers.Length; i++)
        {
            if (layers[i].MightContain(LayerHash(hash, i)))
            {
                return true;
            }
        }

        return false;
    }

    private bool Add(ulong hash, bool synchronized)
    {
        var layers = Volatile.Read(ref _layers);
        var last = layers[^1];
        var spin = default(SpinWait);
        while (last.Count >= last.Capacity && Volatile.Read(ref _capped) == 0)
        {
            // Writers wait for the one that grows (microseconds, rarely) rather than overfill the full layer:
            // an overfilled layer would answer "present" to nearly every key and so stop the growth itself.
            layers = TryGrow(layers) ?? Volatile.Read(ref _layers);
            last = layers[^1];
            if (last.Count >= last.Capacity)
            {
                spin.SpinOnce();
            }
        }

        // A key any older layer reports is not added again (so replays and re-reads do not use up capacity);
        // the last layer answers the same question itself: its Add is false when every bit was set already.
        for (var i = 0; i < layers.Length - 1; i++)
        {
            if (layers[i].MightContain(LayerHash(hash, i)))
            {
                return false;
            }
        }

        var layerHash = LayerHash(hash, layers.Length - 1);
        if (!synchronized)
        {
            return last.AddExclusive(layerHash);
        }

        EnterWriter();
        try
        {
            return last.AddExclusive(layerHash);
        }
        finally
        {
            Volatile.Write(ref _writer, 0);
        }
    }

    /// <summary>
    /// Takes the writer lock: one compare-exchange when free (the usual case: few writers per user, and each holds
    /// it for a few nanoseconds). Serialised writers can set bits with plain stores, where lock-free writers would
    /// need a locked OR for every word a key touches (~6 of them): measured 3× cheaper per add.
    /// </summary>
    private void EnterWriter()
    {
        if (Interlocked.CompareExchange(ref _writer, 1, 0) == 0)
        {
            return;
        }

        var spin = default(SpinWait);
        do
        {
            spin.SpinOnce();
        }
        while (Volatile.Read(ref _writer) != 0 || Interlocked.CompareExchange(ref _writer, 1, 0) != 0);
    }

    /// <summary>Chains a new layer, or marks the filter capped; null when another thread is growing it right now.</summary>
    private BlockedBloomFilter[]? TryGrow(BlockedBloomFilter[] seen)
    {
        if (Interlocked.CompareExchange(ref _growing, 1, 0) != 0)
        {
            return null;
        }

        try
        {
            var current = Volatile.Read(ref _layers);
            if (current != seen)
            {
                return current; // another thread grew it meanwhile
            }

            var used = 0L;
            foreach (var layer in current)
            {
                used += layer.BitBytes;
            }

            var last = current[^1];
            var capacity = (long)Math.Ceiling(last.Capacity * _options.GrowthFactor);
            var next = current.Length < BloomFilterOptions.MaxLayers
                ? NewLayer(current.Length, Math.Max(capacity, last.Capacity + 1), _options.MaxBytes - used, _options)
                : null;
            if (next is null)
            {
                Volatile.Write(ref _capped, 1);
                return current;
            }

            var grown = new BlockedBloomFilter[current.Length + 1];
            current.CopyTo(grown, 0);
            grown[^1] = next;
            Volatile.Write(ref _layers, grown);
            return grown;
        }
        finally
        {
            Volatile.Write(ref _growing, 0);
        }
    }

    /// <summary>A layer for <paramref name="capacity"/> items at the rate of layer <paramref name="index"/>, shrunk to the byte budget; null if not one block fits.</summary>
    private static BlockedBloomFilter? NewLayer(int index, long capacity, long budgetBytes, BloomFilterOptions options)
    {
        var plan = options.Plan(index);
        var blocks = FilterMath.BlocksFor(capacity, plan);
        var budgetBlocks = Math.Min(budgetBytes / BlockProbe.BlockBytes, BlockedBloomFilter.MaxBlocks);
        if (budgetBlocks < 1)
        {
            return null;
        }

        if (blocks > budgetBlocks)
        {
            blocks = budgetBlocks;
            capacity = FilterMath.CapacityOf(blocks, plan);
        }

        return new BlockedBloomFilter((int)blocks, plan.Probes, capacity, options.LayerFalsePositiveRate(index));
    }
}
