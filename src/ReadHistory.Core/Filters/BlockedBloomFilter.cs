using System.Numerics;
using System.Runtime.CompilerServices;

namespace ReadHistory.Core.Filters;

/// <summary>
/// One layer: a blocked Bloom filter over 64-bit key hashes. Every key lives in one 512-bit block and sets k bits
/// anywhere in it, so a check costs one block read (one or two cache lines: blocks are not aligned, see
/// <see cref="BlockProbe"/>).
/// </summary>
/// <remarks>
/// Thread safety: any number of readers and writers at once. <see cref="Add"/> sets bits with
/// <see cref="Interlocked.Or(ref ulong, ulong)"/> and never clears one, so a reader can miss a key only while its
/// <see cref="Add"/> is still running, never after it returned. (<see cref="UserFilter"/> serialises its writers
/// with a writer lock instead and sets bits with plain stores: one locked instruction per add instead of one per
/// word touched.) The layer's bits and count live in one array laid out by <see cref="FilterWords"/>; this object
/// adds the layer's design (probes, capacity, rate). A <see cref="UserFilter"/> keeps its first layer as the bare
/// array and makes one of these only for its grown layers (or as a view, for snapshots and tests).
/// </remarks>
public sealed unsafe partial class BlockedBloomFilter
{
    /// <summary>Most blocks a layer may have (the array limit of .NET, in whole blocks).</summary>
    public const int MaxBlocks = FilterWords.MaxBlocks;

    /// <summary>Bits per block (one key's bits all land in one block).</summary>
    public const int BlockBits = BlockProbe.BlockBits;

    private readonly ulong[] _words;

    internal BlockedBloomFilter(int blockCount, int probes, long capacity, double designRate)
        : this(FilterWords.Allocate(CheckBlocks(blockCount)), probes, capacity, designRate)
    {
    }

    /// <summary>A layer over an existing layer array (shared, not copied: a view of a user filter's first layer).</summary>
    internal BlockedBloomFilter(ulong[] words, int probes, long capacity, double designRate)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(probes, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(probes, BlockProbe.MaxProbes);
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        _words = words;
        Probes = probes;
        Capacity = capacity;
        DesignFalsePositiveRate = designRate;
    }

    /// <summary>Creates an empty layer for <paramref name="capacity"/> items at a target false-positive rate.</summary>
    public static BlockedBloomFilter Create(long capacity, double falsePositiveRate)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        var plan = FilterMath.Plan(falsePositiveRate);
        var blocks = FilterMath.BlocksFor(capacity, plan);
        if (blocks > MaxBlocks)
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, $"Needs {blocks} blocks; a layer holds at most {MaxBlocks}.");
        }

        return new BlockedBloomFilter((int)blocks, plan.Probes, capacity, falsePositiveRate);
    }

    /// <summary>Creates an empty layer of an explicit size and probe count, to measure schemes beside <see cref="Create"/>'s plan.</summary>
    public static BlockedBloomFilter CreateSized(int blockCount, int probes, long capacity, double designRate) =>
        new(blockCount, probes, capacity, designRate);

    /// <summary>The model's false-positive rate at <paramref name="itemsPerBlock"/> items per block with <paramref name="probes"/> probes.</summary>
    public static double ModelFalsePositiveRate(double itemsPerBlock, int probes) => FilterMath.FalsePositiveRate(itemsPerBlock, probes);

    /// <summary>Number of 512-bit blocks.</summary>
    public int BlockCount => FilterWords.BlockCount(_words);

    /// <summary>Bits set per key (k).</summary>
    public int Probes { get; }

    /// <summary>Items the layer was sized for at its design rate.</summary>
    public long Capacity { get; }

    /// <summary>The false-positive rate the layer reaches when it holds <see cref="Capacity"/> items.</summary>
    public double DesignFalsePositiveRate { get; }

    /// <summary>Keys added that changed the filter (a key already reported present is not counted again).</summary>
    public long Count => Volatile.Read(ref FilterWords.Count(_words));

    /// <summary>Bytes of the bit array.</summary>
    public long BitBytes => (long)BlockCount * BlockProbe.BlockBytes;

    /// <summary>Bytes this layer holds on the managed heap: the object and its array (header words included).</summary>
    public long MemoryBytes => FilterMemory.LayerObjectBytes + FilterWords.MemoryBytes(_words);

    /// <summary>The rate the model predicts at the current count.</summary>
    public double EstimatedFalsePositiveRate => FilterMath.FalsePositiveRate(Count / (double)BlockCount, Probes);

    /// <summary>The layer array (header and blocks).</summary>
    internal ulong[] Array => _words;

    /// <summary>The bit array as words, for snapshots (a live view: writers may be setting bits in it).</summary>
    internal Span<ulong> Words => FilterWords.Blocks(_words);

    /// <summary>True when every probe of the key hash is set: the key may have been added. False: it was not.</summary>
    public bool MightContain(ulong hash)
    {
        fixed (ulong* blocks = &_words[FilterWords.HeaderWords])
        {
            return BlockProbe.MayMatchScalar(BlockProbe.BlockOf(blocks, BlockCount, hash), (uint)hash, Probes);
        }
    }

    /// <summary>Sets the key's bits atomically; true when at least one was not set before.</summary>
    public bool Add(ulong hash)
    {
        var masks = stackalloc ulong[BlockProbe.BlockWords];
        BlockProbe.Masks((uint)hash, Probes, masks);
        var changed = false;
        fixed (ulong* blocks = &_words[FilterWords.HeaderWords])
        {
            var block = BlockProbe.BlockOf(blocks, BlockCount, hash);
            for (var w = 0; w < BlockProbe.BlockWords; w++)
            {
                var mask = masks[w];
                // Skipping words whose bits are already set keeps locked instructions off the common re-add path.
                if (mask != 0 && (Volatile.Read(ref block[w]) & mask) != mask)
                {
                    changed |= (Interlocked.Or(ref block[w], mask) & mask) != mask;
                }
            }
        }

        if (changed)
        {
            Interlocked.Increment(ref FilterWords.Count(_words));
        }

        return changed;
    }

    /// <summary>
    /// Sets the key's bits with plain read-modify-writes; true when at least one was not set before. The caller
    /// must be the only writer (the owning <see cref="UserFilter"/>'s writer lock, or a layer no other thread sees
    /// yet); see <see cref="BlockProbe.AddExclusive"/>.
    /// </summary>
    internal bool AddExclusive(ulong hash)
    {
        bool changed;
        fixed (ulong* blocks = &_words[FilterWords.HeaderWords])
        {
            changed = BlockProbe.AddExclusive(blocks, BlockCount, Probes, hash);
        }

        if (changed)
        {
            FilterWords.Increment(_words);
        }

        return changed;
    }

    /// <summary>
    /// Checks many key hashes into <paramref name="bitmap"/> (bit i, LSB first, set = hashes[i] may be present)
    /// and returns how many are certainly absent.
    /// </summary>
    public int CheckMany(ReadOnlySpan<ulong> hashes, Span<byte> bitmap) => CheckMany(hashes, bitmap, ProbePaths.Best);

    /// <summary><see cref="CheckMany(ReadOnlySpan{ulong}, Span{byte})"/> on a chosen probe path (tests, benchmarks).</summary>
    internal int CheckMany(ReadOnlySpan<ulong> hashes, Span<byte> bitmap, ProbePath path)
    {
        FilterBitmap.ThrowIfTooShort(bitmap, hashes.Length);
        var absent = 0;
        fixed (ulong* all = hashes)
        {
            for (var start = 0; start < hashes.Length; start += 64)
            {
                var count = Math.Min(64, hashes.Length - start);
                var found = ProbeChunk(all + start, FilterBitmap.AllOf(count), path);
                FilterBitmap.Write(bitmap, start, found, count);
                absent += count - BitOperations.PopCount(found);
            }
        }

        return absent;
    }

    /// <summary>Tests the hashes whose bit is set in <paramref name="pending"/> (at most 64); see <see cref="BlockProbe.ProbeChunk"/>.</summary>
    internal ulong ProbeChunk(ulong* hashes, ulong pending, ProbePath path)
    {
        fixed (ulong* blocks = &_words[FilterWords.HeaderWords])
        {
            return BlockProbe.ProbeChunk(blocks, BlockCount, Probes, hashes, pending, path);
        }
    }

    /// <summary>Sets the count after bits were loaded from a snapshot.</summary>
    internal void RestoreCount(long count) => FilterWords.Count(_words) = (int)Math.Min(count, int.MaxValue);

    private static int CheckBlocks(int blockCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(blockCount, MaxBlocks);
        return blockCount;
    }
}
