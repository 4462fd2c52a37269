using System.Runtime.CompilerServices;

namespace ReadHistory.Core.Filters;

/// <summary>
/// One user's read history as a scalable Bloom filter (Almeida et al., 2007): a first layer sized at rebuild, then a
/// chain of grown layers, each ×<see cref="BloomFilterOptions.GrowthFactor"/> the capacity of the one before and
/// designed for a rate ×<see cref="BloomFilterOptions.TighteningRatio"/> tighter, so the compound false-positive rate
/// stays under the pool's target however far the user grows past the first sizing.
/// </summary>
/// <remarks>
/// Layout: the first layer is a bare array (<see cref="FilterWords"/>: a two-word header with the count, the writer
/// lock and flags, then the blocks), the pool's shape is shared (<see cref="FilterShape"/>), and grown layers are
/// <see cref="BlockedBloomFilter"/> objects in an array that exists only once the user grew. So the common one-layer
/// filter is this 40-byte object and its array, and a cache can hold it as the array alone.
/// Thread safety: any number of readers and writers at once. Writers take the writer lock in the first layer's header
/// (one compare-exchange) and set bits with plain 8-byte stores of a superset of each word's old bits, so writers lose
/// no update and a lock-free reader sees each word old or new, never with a set bit cleared. A grown layer is
/// published, under the writer lock, by a volatile write of a new array that still holds every older grown layer, so
/// a reader sees either the old or the new set of layers, and both hold every bit set before; no race yields a false
/// negative. Past <see cref="BloomFilterOptions.MaxBytes"/> the filter stops growing and reports
/// <see cref="IsCapped"/>: it still sets bits (no false negatives), but its rate is no longer bounded, and the caller
/// should answer from the database (and rebuild with a larger budget or not at all).
/// </remarks>
public sealed partial class UserFilter
{
    /// <summary>What a fuse-based user's first new read costs: the grown user's objects (held user, filter, layer list, layer object and array headers) and one block.</summary>
    private const long FirstDeltaBytes = 56 + FilterMemory.UserFilterObjectBytes + 32 + FilterMemory.LayerObjectBytes + 40 + BlockProbe.BlockBytes;

    private readonly ulong[] _words;
    private readonly FilterShape _shape;
    private BlockedBloomFilter[]? _grown;

    private UserFilter(ulong[] words, FilterShape shape, BlockedBloomFilter[]? grown)
    {
        _words = words;
        _shape = shape;
        _grown = grown;
    }

    /// <summary>Creates an empty single-layer filter sized for <paramref name="expectedItems"/> plus the options' headroom (a one-block layer: all its block holds).</summary>
    public static UserFilter Create(long expectedItems, BloomFilterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var (blocks, capacity) = FirstLayerSize(expectedItems, options);
        return new UserFilter(FilterWords.AllocateFirst((int)blocks, capacity), options.Shape, grown: null);
    }

    /// <summary>Builds a fresh single-layer filter from a user's rows (<paramref name="rowCount"/> of them expected): the rebuild that folds grown layers back into one.</summary>
    public static UserFilter Rebuild(long rowCount, IEnumerable<ContentKey> rows, BloomFilterOptions options)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var all = new List<ContentKey>((int)Math.Clamp(rowCount, 0, 1 << 20));
        all.AddRange(rows);
        return Rebuild(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(all), options);
    }

    /// <summary>
    /// Builds a fresh single-layer filter from all of a user's rows (the rebuild): a binary fuse layer when the options
    /// allow it and it is smaller than the blocked Bloom layer by at least the cost of its first delta (see
    /// <see cref="BloomFilterOptions.FuseBase"/>), else a blocked Bloom layer with the options' headroom.
    /// </summary>
    public static UserFilter Rebuild(ReadOnlySpan<ContentKey> rows, BloomFilterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.FuseBase && TryFuse(rows, options) is { } fuse)
        {
            return fuse;
        }

        var filter = Create(rows.Length, options);
        foreach (var row in rows)
        {
            filter.Add(filter._shape.Hash.Compute(row.Type, row.Id), synchronized: false);
        }

        return filter;
    }

    /// <summary>Whether a first layer sized for <paramref name="rows"/> rows holds them all within the options' byte cap (else a rebuild is pointless: the user is capped).</summary>
    public static bool CanHold(long rows, BloomFilterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var (blocks, capacity) = FirstLayerSize(rows, options);
        return blocks >= 1 && rows <= FilterWords.MaxFirstCapacity && capacity >= rows;
    }

    /// <summary>
    /// The first layer <see cref="Create"/> makes for <paramref name="expectedItems"/>: its blocks (0 when not one fits the
    /// byte cap) and the items it takes. A one-block layer takes all its block holds at the design rate (a 10-row user
    /// gets ~44 items, not 13 and a new layer after them): the block is paid for whole. Larger layers keep the sizing
    /// they asked for.
    /// </summary>
    private static (long Blocks, long Capacity) FirstLayerSize(long expectedItems, BloomFilterOptions options)
    {
        var plan = options.Plan(0);
        var capacity = Math.Min(options.CapacityFor(expectedItems), FilterWords.MaxFirstCapacity);
        var blocks = LayerBlocks(plan, capacity, options.MaxBytes);
        var holds = FilterMath.CapacityOf(blocks, plan);
        return (blocks, blocks == 1 ? holds : Math.Min(capacity, holds));
    }

    /// <summary>The options this filter grows by.</summary>
    public BloomFilterOptions Options => _shape.Options;

    /// <summary>The seed of this filter's key hash.</summary>
    public ulong Seed => _shape.Hash.Seed;

    /// <summary>Keys added that changed the filter, over all layers (re-adding a key present already does not count).</summary>
    public long Count
    {
        get
        {
            long count = Volatile.Read(ref FilterWords.Count(_words));
            foreach (var layer in Volatile.Read(ref _grown) ?? [])
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
            var capacity = FirstCapacity;
            foreach (var layer in Volatile.Read(ref _grown) ?? [])
            {
                capacity += layer.Capacity;
            }

            return capacity;
        }
    }

    /// <summary>Number of layers (1 after a rebuild).</summary>
    public int LayerCount => 1 + (Volatile.Read(ref _grown)?.Length ?? 0);

    /// <summary>The layers, oldest first (the first one a view over the shared first-layer array; internal because a layer's own Add bypasses the layer hash).</summary>
    internal IReadOnlyList<BlockedBloomFilter> Layers => LayerArray();

    /// <summary>True when the first layer is an immutable binary fuse layer built at rebuild (reads since go to grown layers).</summary>
    public bool HasFuseBase => FilterWords.IsFuse(_words);

    /// <summary>True once the filter outgrew <see cref="BloomFilterOptions.MaxBytes"/>: its rate is no longer bounded; answer from the database.</summary>
    public bool IsCapped => FilterWords.Has(_words, FilterWords.CappedFlag);

    /// <summary>Bytes of bit arrays over all layers.</summary>
    public long BitBytes
    {
        get
        {
            var bytes = (long)FilterWords.BlockCount(_words) * BlockProbe.BlockBytes;
            foreach (var layer in Volatile.Read(ref _grown) ?? [])
            {
                bytes += layer.BitBytes;
            }

            return bytes;
        }
    }

    /// <summary>Bytes this filter holds on the managed heap: this object, the first-layer array, a private shape, and each grown layer with its array (see <see cref="FilterMemory"/>).</summary>
    public long MemoryBytes => FilterMemory.UserFilterObjectBytes + HeldBytes;

    /// <summary>
    /// Bytes a cache pays to hold this filter without the filter object: the first-layer array, a private shape, and
    /// any grown layers (a one-layer filter of the pool's shape is held as its bare array; see Caching.FilterTable).
    /// </summary>
    internal long HeldBytes
    {
        get
        {
            var bytes = FilterWords.MemoryBytes(_words) + _shape.OwnBytes;
            if (Volatile.Read(ref _grown) is { } grown)
            {
                bytes += FilterMemory.ArrayBytes(grown.Length);
                foreach (var layer in grown)
                {
                    bytes += layer.MemoryBytes;
                }
            }

            return bytes;
        }
    }

    /// <summary>The compound rate the model predicts at the current counts: 1 − Π (1 − rate of layer i).</summary>
    public double EstimatedFalsePositiveRate
    {
        get
        {
            var miss = 1 - FirstLayerRate(_words, _shape);
            foreach (var layer in Volatile.Read(ref _grown) ?? [])
            {
                miss *= 1 - layer.EstimatedFalsePositiveRate;
            }

            return 1 - miss;
        }
    }

    /// <summary>The first layer's array (header and blocks), shared with whoever holds it.</summary>
    internal ulong[] FirstLayer => _words;

    /// <summary>The first layer's shape.</summary>
    internal FilterShape Shape => _shape;

    /// <summary>True while the filter has only its first layer.</summary>
    internal bool IsSingleLayer => Volatile.Read(ref _grown) is null;

    private long FirstCapacity => FilterWords.FirstCapacity(_words);

    /// <summary>Records a read; true when the filter changed (false: the key was reported present already).</summary>
    public bool Add(ushort contentType, ulong contentId) => Add(_shape.Hash.Compute(contentType, contentId), synchronized: true);

    /// <summary>Records many reads of one content type; returns how many changed the filter.</summary>
    public int AddMany(ushort contentType, ReadOnlySpan<ulong> contentIds)
    {
        var added = 0;
        foreach (var id in contentIds)
        {
            added += Add(_shape.Hash.Compute(contentType, id), synchronized: true) ? 1 : 0;
        }

        return added;
    }

    /// <summary>False: the user has certainly not read it. True: read, or a false positive at the pool's rate.</summary>
    public bool MightContain(ushort contentType, ulong contentId) => AnsweringLayer(contentType, contentId) >= 0;

    /// <summary>
    /// The first layer (0 = the one sized at rebuild, then the grown ones in order) whose probed bits are all set for
    /// the id, or -1 when none is: the id is certainly unread. What an explanation of a "read" answer names.
    /// </summary>
    public int AnsweringLayer(ushort contentType, ulong contentId)
    {
        var hash = _shape.Hash.Compute(contentType, contentId);
        if (FirstLayerContains(_words, _shape, hash))
        {
            return 0;
        }

        var grown = Volatile.Read(ref _grown) ?? [];
        for (var i = 0; i < grown.Length; i++)
        {
            if (grown[i].MightContain(LayerHash(hash, i + 1)))
            {
                return i + 1;
            }
        }

        return -1;
    }

    /// <summary>
    /// Checks many ids of one content type into <paramref name="bitmap"/> (bit i at byte i / 8, bit i % 8, LSB
    /// first, set = ids[i] possibly read; the API's read_bitmap) and returns how many are certainly unread.
    /// </summary>
    public int CheckMany(ushort contentType, ReadOnlySpan<ulong> contentIds, Span<byte> bitmap) =>
        CheckMany(contentType, contentIds, bitmap, ProbePaths.Best);

    /// <summary>A filter over a first-layer array held elsewhere (a cache's bare array): shares the array, copies nothing.</summary>
    internal static UserFilter Attach(ulong[] firstLayer, FilterShape shape) => new(firstLayer, shape, grown: null);

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

    /// <summary>The model's rate of a first layer at its current count.</summary>
    internal static double FirstLayerRate(ulong[] words, FilterShape shape)
    {
        var count = Volatile.Read(ref FilterWords.Count(words));
        if (FilterWords.IsFuse(words))
        {
            return count == 0 ? 0 : FuseLayer.FalsePositiveRate;
        }

        return FilterMath.FalsePositiveRate(count / (double)FilterWords.BlockCount(words), shape.Probes);
    }

    /// <summary>Blocks of a new layer for <paramref name="capacity"/> items under <paramref name="plan"/>, shrunk to the byte budget and to an int count; 0 if not one block fits.</summary>
    private static long LayerBlocks(LayerPlan plan, long capacity, long budgetBytes)
    {
        var blocks = FilterMath.BlocksFor(capacity, plan);
        // The count lives in an int (FilterWords): keep a layer's capacity below int.MaxValue.
        var countLimit = (long)Math.Floor(int.MaxValue / plan.ItemsPerBlock);
        var budgetBlocks = Math.Min(Math.Min(budgetBytes / BlockProbe.BlockBytes, FilterWords.MaxBlocks), countLimit);
        return budgetBlocks < 1 ? 0 : Math.Min(blocks, budgetBlocks);
    }

    private static unsafe bool FirstLayerContains(ulong[] words, FilterShape shape, ulong hash)
    {
        if (FilterWords.IsFuse(words))
        {
            return FuseLayer.Contains(words, hash);
        }

        fixed (ulong* blocks = &words[FilterWords.HeaderWords])
        {
            return BlockProbe.MayMatchScalar(BlockProbe.BlockOf(blocks, FilterWords.BlockCount(words), hash), (uint)hash, shape.Probes);
        }
    }

    /// <summary>
    /// A fuse base of <paramref name="rows"/> when its rate (0.39 %) is within the first layer's design rate and it beats
    /// the blocked Bloom layer those rows would get by more than a
    /// first delta costs once the user is written to (a grown user's objects and one block), so a rebuilt user that then
    /// takes one new read is no larger than before; null otherwise, or when no seed peeled.
    /// </summary>
    private static UserFilter? TryFuse(ReadOnlySpan<ContentKey> rows, BloomFilterOptions options)
    {
        // 8-bit fingerprints give 0.39 %: only a pool whose first layer may have that rate can use them (1 % target: 0.5 %).
        if (FuseLayer.FalsePositiveRate > options.LayerFalsePositiveRate(0))
        {
            return null;
        }

        var bloomBytes = FirstLayerSize(rows.Length, options).Blocks * BlockProbe.BlockBytes;
        var fuseBytes = FuseLayer.PayloadBytes(rows.Length);
        if (rows.Length > FilterWords.MaxFirstCapacity || fuseBytes + FirstDeltaBytes > bloomBytes || fuseBytes + BlockProbe.BlockBytes > options.MaxBytes)
        {
            return null;
        }

        var hash = options.Shape.Hash;
        var hashes = System.Buffers.ArrayPool<ulong>.Shared.Rent(rows.Length);
        try
        {
            for (var i = 0; i < rows.Length; i++)
            {
                hashes[i] = hash.Compute(rows[i].Type, rows[i].Id);
            }

            // The peeling fails on a repeated key (a row replayed twice, or given twice): one attempt as the rows came
            // (a rebuild's scan has distinct primary keys, and a peel that succeeds proves the hashes distinct), then
            // distinct hashes only.
            var span = hashes.AsSpan(0, rows.Length);
            if (FuseLayer.Build(span, attempts: 1) is { } first)
            {
                return new UserFilter(first, options.Shape, grown: null);
            }

            span.Sort();
            var distinct = 0;
            for (var i = 0; i < span.Length; i++)
            {
                if (distinct == 0 || span[i] != span[distinct - 1])
                {
                    span[distinct++] = span[i];
                }
            }

            return FuseLayer.Build(span[..distinct]) is { } words ? new UserFilter(words, options.Shape, grown: null) : null;
        }
        finally
        {
            System.Buffers.ArrayPool<ulong>.Shared.Return(hashes);
        }
    }

    private BlockedBloomFilter[] LayerArray()
    {
        var grown = Volatile.Read(ref _grown) ?? [];
        var layers = new BlockedBloomFilter[1 + grown.Length];
        layers[0] = new BlockedBloomFilter(_words, _shape.Probes, FirstCapacity, _shape.DesignRate);
        grown.CopyTo(layers, 1);
        return layers;
    }
}
