using System.Runtime.CompilerServices;

namespace ReadHistory.Core.Filters;

/// <summary>
/// The one array a filter layer lives in: a two-word header, then the blocks. Keeping the layer's state in its own
/// bit array (instead of an object around it) is what lets a cache hold a one-layer user as this array alone.
/// </summary>
/// <remarks>
/// <code>
/// word 0      key: the user id of the cache slot that holds the array (0 = not held by a cache)
/// word 1      count (int: keys added that changed the layer) | flags (int: bits 0..4 the Flag constants,
///             bits 5..31 a first layer's capacity, set before the array is shared and never changed)
/// word 2 ..   blocks, 8 words (512 bits) each; no alignment is assumed (see BlockProbe); or, with FuseFlag,
///             a binary fuse layer in as many whole 64-byte units (see FuseLayer)
/// </code>
/// The count is written only under the writer lock (a flag); the flags change only by atomic operations, so a reader
/// setting the CLOCK bit never loses a writer's lock and the other way round.
/// </remarks>
internal static class FilterWords
{
    /// <summary>Words before the first block.</summary>
    public const int HeaderWords = 2;

    /// <summary>Bytes before the first block.</summary>
    public const int HeaderBytes = HeaderWords * sizeof(ulong);

    /// <summary>Flag: a writer holds the layer (writers are serialised; readers never take it).</summary>
    public const int WriterFlag = 1;

    /// <summary>Flag: the filter outgrew its byte cap (kept on layer 0).</summary>
    public const int CappedFlag = 2;

    /// <summary>Flag: the CLOCK reference bit of the cache holding the array.</summary>
    public const int ReferencedFlag = 4;

    /// <summary>Flag: the cache dropped the array (evicted, removed, or replaced by a grown filter).</summary>
    public const int DetachedFlag = 8;

    /// <summary>Flag: the array is an immutable binary fuse first layer (<see cref="FuseLayer"/>), set before it is shared.</summary>
    public const int FuseFlag = 16;

    /// <summary>Largest capacity a first layer records in its header (bits 5..31 of the flags): 134 M items.</summary>
    public const int MaxFirstCapacity = (int)(uint.MaxValue >> CapacityShift);

    private const int CapacityShift = 5;

    /// <summary>Most blocks a layer may have so that its word count fits an array.</summary>
    public const int MaxBlocks = ((int.MaxValue - HeaderWords) / BlockProbe.BlockWords) - 1;

    /// <summary>An empty layer of <paramref name="blocks"/> blocks.</summary>
    public static ulong[] Allocate(int blocks) => new ulong[HeaderWords + ((long)blocks * BlockProbe.BlockWords)];

    /// <summary>
    /// A layer array of <paramref name="blocks"/> blocks whose words (header included) the caller writes all of, on the
    /// pinned object heap: for bulk loads (warm start, the Redis tier) of filters meant to stay. The pinned heap is
    /// collected with generation 2 and never compacted, so a million loaded arrays are not copied from generation to
    /// generation while they arrive (measured: blocking GC per GiB loaded 0.8–1.3 s on the small object heap, 0.1 s
    /// here); the price is that an evicted one leaves a hole that only a later array of a fitting size reuses.
    /// </summary>
    public static ulong[] AllocateUninitialized(int blocks) => GC.AllocateUninitializedArray<ulong>(HeaderWords + (blocks * BlockProbe.BlockWords), pinned: true);

    /// <summary>An empty first layer of <paramref name="blocks"/> blocks that records its capacity (at most <see cref="MaxFirstCapacity"/>).</summary>
    public static ulong[] AllocateFirst(int blocks, long capacity)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(capacity, MaxFirstCapacity);
        var words = Allocate(blocks);
        InitFirst(words, capacity, capped: false);
        return words;
    }

    /// <summary>Writes a first layer's capacity (clamped to <see cref="MaxFirstCapacity"/>: a smaller one only grows it sooner) and capped flag, before the array is shared.</summary>
    public static void InitFirst(ulong[] words, long capacity, bool capped) =>
        Flags(words) = (int)((uint)Math.Min(capacity, MaxFirstCapacity) << CapacityShift) | (capped ? CappedFlag : 0);

    /// <summary>The capacity a first layer recorded.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long FirstCapacity(ulong[] words) => (uint)Volatile.Read(ref Flags(words)) >> CapacityShift;

    /// <summary>Blocks in a layer array.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int BlockCount(ulong[] words) => (words.Length - HeaderWords) / BlockProbe.BlockWords;

    /// <summary>The key word (a cache's user id).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ref ulong Key(ulong[] words) => ref words[0];

    /// <summary>The count half of word 1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ref int Count(ulong[] words) => ref Unsafe.As<ulong, int>(ref words[1]);

    /// <summary>The flags half of word 1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ref int Flags(ulong[] words) => ref Unsafe.Add(ref Unsafe.As<ulong, int>(ref words[1]), 1);

    /// <summary>The blocks as words (a live view: writers may be setting bits).</summary>
    public static Span<ulong> Blocks(ulong[] words) => words.AsSpan(HeaderWords);

    /// <summary>True for a binary fuse first layer (the flag never changes once the array is shared).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsFuse(ulong[] words) => (Flags(words) & FuseFlag) != 0;

    /// <summary>Whether a flag is set.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Has(ulong[] words, int flag) => (Volatile.Read(ref Flags(words)) & flag) != 0;

    /// <summary>Sets a flag atomically (a plain read first, so a set bit costs no locked instruction).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Set(ulong[] words, int flag)
    {
        if ((Volatile.Read(ref Flags(words)) & flag) == 0)
        {
            Interlocked.Or(ref Flags(words), flag);
        }
    }

    /// <summary>Clears a flag atomically; returns whether it was set.</summary>
    public static bool Clear(ulong[] words, int flag) => (Interlocked.And(ref Flags(words), ~flag) & flag) != 0;

    /// <summary>Adds one to the count (under the writer lock), saturating at int.MaxValue.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Increment(ulong[] words)
    {
        ref var count = ref Count(words);
        if (count != int.MaxValue)
        {
            Volatile.Write(ref count, count + 1);
        }
    }

    /// <summary>
    /// Takes the writer lock: one compare-exchange when free (the usual case: few writers per user, each holding it for
    /// a few nanoseconds). Serialised writers set bits with plain stores, where lock-free writers would need a locked OR
    /// for every word a key touches (~6 of them): measured 3× cheaper per add.
    /// </summary>
    public static void EnterWriter(ulong[] words)
    {
        ref var flags = ref Flags(words);
        var spin = default(SpinWait);
        while (true)
        {
            var seen = Volatile.Read(ref flags);
            if ((seen & WriterFlag) == 0 && Interlocked.CompareExchange(ref flags, seen | WriterFlag, seen) == seen)
            {
                return;
            }

            if ((seen & WriterFlag) != 0)
            {
                spin.SpinOnce();
            }
        }
    }

    /// <summary>Releases the writer lock.</summary>
    public static void ExitWriter(ulong[] words) => Interlocked.And(ref Flags(words), ~WriterFlag);

    /// <summary>Heap bytes of a layer array: the array header and every word (see <see cref="FilterMemory"/>).</summary>
    public static long MemoryBytes(ulong[] words) => FilterMemory.ArrayBytes(words.Length);
}
