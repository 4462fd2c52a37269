using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace ReadHistory.Core.Filters;

/// <summary>
/// One layer: a blocked Bloom filter over 64-bit key hashes. Every key lives in one 512-bit, 64-byte-aligned
/// block (one cache line) and sets k bits anywhere in it, so a check costs one memory access.
/// </summary>
/// <remarks>
/// Thread safety: any number of readers and writers at once. <see cref="Add"/> sets bits with
/// <see cref="Interlocked.Or(ref ulong, ulong)"/> and never clears one, so a reader can miss a key only while its
/// <see cref="Add"/> is still running, never after it returned. (<see cref="UserFilter"/> serialises its writers
/// with a one-word lock instead and sets bits with plain stores: one locked instruction per add instead of one per
/// word touched.) The bit array is allocated on the pinned object heap so that its 64-byte alignment holds
/// for the filter's whole life (the GC never moves it); see <see cref="FilterMemory"/> for the byte count.
/// </remarks>
public sealed unsafe partial class BlockedBloomFilter
{
    /// <summary>Most blocks a layer may have (the array limit of .NET, in whole blocks).</summary>
    public const int MaxBlocks = (int.MaxValue / BlockProbe.BlockWords) - 1;

    private readonly ulong[] _storage;
    private readonly ulong* _blocks;
    private long _count;

    internal BlockedBloomFilter(int blockCount, int probes, long capacity, double designRate)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(blockCount, MaxBlocks);
        ArgumentOutOfRangeException.ThrowIfLessThan(probes, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(probes, BlockProbe.MaxProbes);
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        BlockCount = blockCount;
        Probes = probes;
        Capacity = capacity;
        DesignFalsePositiveRate = designRate;

        // 7 spare words so that a 64-byte boundary falls inside the array wherever the heap puts it.
        _storage = GC.AllocateArray<ulong>((blockCount * BlockProbe.BlockWords) + FilterMemory.AlignmentSlackWords, pinned: true);
        var start = (nuint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_storage));
        var skipBytes = (BlockProbe.BlockBytes - (start % BlockProbe.BlockBytes)) % BlockProbe.BlockBytes;
        _blocks = (ulong*)(start + skipBytes);
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

    /// <summary>Number of 512-bit blocks.</summary>
    public int BlockCount { get; }

    /// <summary>Bits set per key (k).</summary>
    public int Probes { get; }

    /// <summary>Items the layer was sized for at its design rate.</summary>
    public long Capacity { get; }

    /// <summary>The false-positive rate the layer reaches when it holds <see cref="Capacity"/> items.</summary>
    public double DesignFalsePositiveRate { get; }

    /// <summary>Keys added that changed the filter (a key already reported present is not counted again).</summary>
    public long Count => Volatile.Read(ref _count);

    /// <summary>Bytes of the bit array.</summary>
    public long BitBytes => (long)BlockCount * BlockProbe.BlockBytes;

    /// <summary>Bytes this layer holds on the managed heap: the object, its pinned array, and alignment slack.</summary>
    public long MemoryBytes => FilterMemory.LayerObjectBytes + FilterMemory.ArrayBytes(_storage.Length);

    /// <summary>The rate the model predicts at the current count.</summary>
    public double EstimatedFalsePositiveRate => FilterMath.FalsePositiveRate(Count / (double)BlockCount, Probes);

    /// <summary>True when every probe of the key hash is set: the key may have been added. False: it was not.</summary>
    public bool MightContain(ulong hash) => BlockProbe.MayMatchScalar(BlockOf(hash), (uint)hash, Probes);

    /// <summary>Sets the key's bits atomically; true when at least one was not set before.</summary>
    public bool Add(ulong hash)
    {
        var block = BlockOf(hash);
        var masks = stackalloc ulong[BlockProbe.BlockWords];
        BlockProbe.Masks((uint)hash, Probes, masks);
        var changed = false;
        for (var w = 0; w < BlockProbe.BlockWords; w++)
        {
            var mask = masks[w];
            // Skipping words whose bits are already set keeps locked instructions off the common re-add path.
            if (mask != 0 && (Volatile.Read(ref block[w]) & mask) != mask)
            {
                changed |= (Interlocked.Or(ref block[w], mask) & mask) != mask;
            }
        }

        if (changed)
        {
            Interlocked.Increment(ref _count);
        }

        return changed;
    }

    /// <summary>
    /// Sets the key's bits with plain read-modify-writes; true when at least one was not set before. The caller
    /// must be the only writer (the owning <see cref="UserFilter"/>'s writer lock, or a layer no other thread sees
    /// yet). Readers may run meanwhile: each word is written by one aligned 8-byte store of a superset of its old
    /// bits, so a reader sees the old or the new word, never one with a bit cleared.
    /// </summary>
    internal bool AddExclusive(ulong hash)
    {
        var block = BlockOf(hash);
        var masks = stackalloc ulong[BlockProbe.BlockWords];
        BlockProbe.Masks((uint)hash, Probes, masks);
        ulong missing = 0;
        for (var w = 0; w < BlockProbe.BlockWords; w++)
        {
            missing |= masks[w] & ~block[w];
            block[w] |= masks[w];
        }

        if (missing != 0)
        {
            Volatile.Write(ref _count, _count + 1);
        }

        return missing != 0;
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
                var found = ProbeChunk(all + start, count, FilterBitmap.AllOf(count), path);
                FilterBitmap.Write(bitmap, start, found, count);
                absent += count - BitOperations.PopCount(found);
            }
        }

        return absent;
    }

    /// <summary>
    /// Tests the hashes whose bit is set in <paramref name="pending"/> (at most 64) and returns the bits of those
    /// that may be present. First every block is located and prefetched, then tested, so that the cache misses
    /// of a chunk overlap instead of queueing behind each other.
    /// </summary>
    [SkipLocalsInit]
    internal ulong ProbeChunk(ulong* hashes, int count, ulong pending, ProbePath path)
    {
        var blocks = stackalloc ulong*[64];
        var h2 = stackalloc uint[64];
        var blockCount = BlockCount;
        for (var left = pending; left != 0; left &= left - 1)
        {
            var i = BitOperations.TrailingZeroCount(left);
            var hash = hashes[i];
            var block = _blocks + ((long)BlockProbe.BlockIndex(hash, blockCount) * BlockProbe.BlockWords);
            if (Sse.IsSupported)
            {
                Sse.Prefetch0(block);
            }

            blocks[i] = block;
            h2[i] = (uint)hash;
        }

        ulong found = 0;
        switch (path)
        {
            case ProbePath.Vector512:
                var multipliers = BlockProbe.Multipliers512(Probes);
                for (var left = pending; left != 0; left &= left - 1)
                {
                    var i = BitOperations.TrailingZeroCount(left);
                    if (BlockProbe.MayMatch512(blocks[i], h2[i], multipliers))
                    {
                        found |= 1UL << i;
                    }
                }

                break;
            case ProbePath.Vector256:
                var round0 = BlockProbe.Multipliers256(Probes, 0);
                var round1 = BlockProbe.Multipliers256(Probes, 1);
                var twoRounds = Probes > 8;
                for (var left = pending; left != 0; left &= left - 1)
                {
                    var i = BitOperations.TrailingZeroCount(left);
                    if (BlockProbe.MayMatch256(blocks[i], h2[i], round0, round1, twoRounds))
                    {
                        found |= 1UL << i;
                    }
                }

                break;
            default:
                var probes = Probes;
                for (var left = pending; left != 0; left &= left - 1)
                {
                    var i = BitOperations.TrailingZeroCount(left);
                    if (BlockProbe.MayMatchScalar(blocks[i], h2[i], probes))
                    {
                        found |= 1UL << i;
                    }
                }

                break;
        }

        return found;
    }

    /// <summary>The bit array as words, for snapshots (a live view: writers may be setting bits in it).</summary>
    internal Span<ulong> Words => new(_blocks, BlockCount * BlockProbe.BlockWords);

    /// <summary>Address of the first block (tests check its alignment).</summary>
    internal nuint BlocksAddress => (nuint)_blocks;

    /// <summary>Sets the count after bits were loaded from a snapshot.</summary>
    internal void RestoreCount(long count) => _count = count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong* BlockOf(ulong hash) => _blocks + ((long)BlockProbe.BlockIndex(hash, BlockCount) * BlockProbe.BlockWords);
}
