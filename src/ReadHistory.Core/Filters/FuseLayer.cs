using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace ReadHistory.Core.Filters;

/// <summary>
/// An immutable first layer built at rebuild: a binary fuse filter with 8-bit fingerprints (Graf and Lemire, 2022), ~9.3
/// bits per item for large users at a rate of 2⁻⁸ = 0.39 %, against 14.5 for a blocked Bloom layer with headroom. It
/// takes no adds: reads after the rebuild go to grown blocked-Bloom layers (the delta), folded at the next rebuild.
/// </summary>
/// <remarks>
/// It lives in the same kind of array as a blocked-Bloom first layer (<see cref="FilterWords"/>: key, count and flags with
/// <see cref="FilterWords.FuseFlag"/>), so a cache holds it bare and snapshots copy it as whole 64-byte units:
/// <code>
/// word 0, 1   the FilterWords header (count = keys built in = the capacity recorded)
/// word 2      segment length log2 (bits 0..7) | segment count (bits 32..63)
/// word 3      the seed the construction succeeded with
/// word 4 ..   (segment count + 2) · segment length fingerprint bytes, zero-padded to whole 64-byte units from word 2
/// </code>
/// A key hash h is remixed with the seed to x; its three slots are one in each of three consecutive segments (the first
/// segment from the high bits of x, the offsets inside the next two from its low bits), and the key is present when the
/// fingerprints of the three slots xor to x's own 8-bit fingerprint. Construction peels the 3-hypergraph: a slot hit by
/// one key fixes that key last; it fails now and then (a new seed then), and never when given duplicate hashes (they
/// are removed first).
/// </remarks>
internal static unsafe class FuseLayer
{
    /// <summary>Words before the first fingerprint (the FilterWords header, the layout word and the seed).</summary>
    public const int HeaderWords = FilterWords.HeaderWords + 2;

    /// <summary>The layer's false-positive rate: one chance in 2⁸ that three fingerprints xor to the key's.</summary>
    public const double FalsePositiveRate = 1.0 / 256;

    /// <summary>Bits per fingerprint (what a snapshot records as the layer's probes).</summary>
    public const int FingerprintBits = 8;

    private const int Arity = 3;
    private const int MaxSegmentLengthLog2 = 18;
    private const int MaxAttempts = 32;

    /// <summary>Bytes of the fingerprints and layout words of a layer for <paramref name="keys"/> keys, whole 64-byte units (what its blocks count).</summary>
    public static long PayloadBytes(long keys)
    {
        var (segmentLengthLog2, segmentCount) = Layout(keys);
        return PaddedPayloadBytes(segmentLengthLog2, segmentCount);
    }

    /// <summary>
    /// Builds a layer from key hashes, or null when no seed peeled within <paramref name="attempts"/> (at most 32): a
    /// repeated hash never peels, so a caller unsure the hashes are distinct tries once, then dedupes and tries again.
    /// </summary>
    public static ulong[]? Build(ReadOnlySpan<ulong> hashes, int attempts = MaxAttempts)
    {
        var keys = hashes.Length;
        var (segmentLengthLog2, segmentCount) = Layout(keys);
        var segmentLength = 1 << segmentLengthLog2;
        var slots = (segmentCount + Arity - 1) * segmentLength;
        var blocks = (int)(PaddedPayloadBytes(segmentLengthLog2, segmentCount) / BlockProbe.BlockBytes);
        var counts = ArrayPool<int>.Shared.Rent(slots);
        var xors = ArrayPool<ulong>.Shared.Rent(slots);
        var stack = ArrayPool<ulong>.Shared.Rent(Math.Max(1, keys));
        var stackSlots = ArrayPool<int>.Shared.Rent(Math.Max(1, keys));
        var queue = ArrayPool<int>.Shared.Rent(slots);
        try
        {
            var seed = 0x243F_6A88_85A3_08D3UL;
            for (var attempt = 0; attempt < Math.Min(attempts, MaxAttempts); attempt++, seed = unchecked(seed + 0x9E37_79B9_7F4A_7C15UL))
            {
                var peeled = Peel(hashes, seed, segmentLengthLog2, segmentCount, counts, xors, stack, stackSlots, queue);
                if (peeled != keys)
                {
                    continue;
                }

                var words = FilterWords.Allocate(blocks);
                words[FilterWords.HeaderWords] = (uint)segmentLengthLog2 | ((ulong)(uint)segmentCount << 32);
                words[FilterWords.HeaderWords + 1] = seed;
                fixed (ulong* start = &words[HeaderWords])
                {
                    var fingerprints = (byte*)start;
                    for (var i = keys - 1; i >= 0; i--)
                    {
                        var x = Remix(stack[i], seed);
                        var (a, b, c) = Slots(x, segmentLengthLog2, segmentCount);
                        var own = stackSlots[i];
                        fingerprints[own] = 0;
                        fingerprints[own] = (byte)(Fingerprint(x) ^ fingerprints[a] ^ fingerprints[b] ^ fingerprints[c]);
                    }
                }

                FilterWords.InitFirst(words, keys, capped: false);
                FilterWords.Set(words, FilterWords.FuseFlag);
                FilterWords.Count(words) = keys;
                return words;
            }

            return null;
        }
        finally
        {
            ArrayPool<int>.Shared.Return(counts);
            ArrayPool<ulong>.Shared.Return(xors);
            ArrayPool<ulong>.Shared.Return(stack);
            ArrayPool<int>.Shared.Return(stackSlots);
            ArrayPool<int>.Shared.Return(queue);
        }
    }

    /// <summary>
    /// Checks a layer array's layout word against its length, so that every slot a query computes lies inside the
    /// array: a snapshot's bytes are not trusted. Null when consistent, else what is wrong.
    /// </summary>
    public static string? Validate(ulong[] words)
    {
        if (words.Length < HeaderWords)
        {
            return "a fuse layer needs its two layout words";
        }

        var layout = words[FilterWords.HeaderWords];
        var segmentLengthLog2 = (int)(layout & 0xFF);
        var segmentCount = (long)(layout >> 32);
        if ((layout & 0xFFFF_FF00UL) != 0 || segmentLengthLog2 > MaxSegmentLengthLog2 || segmentCount < 1)
        {
            return $"a fuse layout word 0x{layout:X16} out of range";
        }

        var expected = PaddedPayloadBytes(segmentLengthLog2, (int)Math.Min(segmentCount, int.MaxValue / 2));
        var actual = (words.Length - FilterWords.HeaderWords) * 8L;
        return expected == actual ? null : $"a fuse layout of {expected} bytes in a layer of {actual}";
    }

    /// <summary>True when the key hash may have been built in (always, when it was).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Contains(ulong[] words, ulong hash)
    {
        var layout = words[FilterWords.HeaderWords];
        var x = Remix(hash, words[FilterWords.HeaderWords + 1]);
        var (a, b, c) = Slots(x, (int)(layout & 0xFF), (int)(layout >> 32));
        fixed (ulong* start = &words[HeaderWords])
        {
            var fingerprints = (byte*)start;
            return (byte)(fingerprints[a] ^ fingerprints[b] ^ fingerprints[c]) == Fingerprint(x);
        }
    }

    /// <summary>Tests the hashes whose bit is set in <paramref name="pending"/> (at most 64): their slots are computed and prefetched first, so the misses overlap.</summary>
    [SkipLocalsInit]
    public static ulong ProbeChunk(ulong[] words, ulong* hashes, ulong pending)
    {
        var layout = words[FilterWords.HeaderWords];
        var seed = words[FilterWords.HeaderWords + 1];
        var segmentLengthLog2 = (int)(layout & 0xFF);
        var segmentCount = (int)(layout >> 32);
        var slots = stackalloc uint[64 * 3];
        var expected = stackalloc byte[64];
        ulong found = 0;
        fixed (ulong* start = &words[HeaderWords])
        {
            var fingerprints = (byte*)start;
            for (var left = pending; left != 0; left &= left - 1)
            {
                var i = BitOperations.TrailingZeroCount(left);
                var x = Remix(hashes[i], seed);
                var (a, b, c) = Slots(x, segmentLengthLog2, segmentCount);
                slots[i * 3] = (uint)a;
                slots[(i * 3) + 1] = (uint)b;
                slots[(i * 3) + 2] = (uint)c;
                expected[i] = Fingerprint(x);
                MemoryHints.Prefetch(fingerprints + a);
                MemoryHints.Prefetch(fingerprints + b);
                MemoryHints.Prefetch(fingerprints + c);
            }

            for (var left = pending; left != 0; left &= left - 1)
            {
                var i = BitOperations.TrailingZeroCount(left);
                var value = fingerprints[slots[i * 3]] ^ fingerprints[slots[(i * 3) + 1]] ^ fingerprints[slots[(i * 3) + 2]];
                found |= (ulong)(value == expected[i] ? 1 : 0) << i;
            }
        }

        return found;
    }

    /// <summary>Segment length (log2) and segment count for <paramref name="keys"/> keys: the paper's sizing for arity 3.</summary>
    internal static (int SegmentLengthLog2, int SegmentCount) Layout(long keys)
    {
        var n = Math.Max(keys, 2);
        var segmentLengthLog2 = Math.Clamp((int)Math.Floor((Math.Log(n) / Math.Log(3.33)) + 2.25), 1, MaxSegmentLengthLog2);
        var segmentLength = 1L << segmentLengthLog2;
        var sizeFactor = Math.Max(1.125, 0.875 + (0.25 * Math.Log(1_000_000) / Math.Log(n)));
        var capacity = (long)Math.Round(n * sizeFactor);
        var segmentCount = ((capacity + segmentLength - 1) / segmentLength) - (Arity - 1);
        return (segmentLengthLog2, (int)Math.Max(1, segmentCount));
    }

    private static long PaddedPayloadBytes(int segmentLengthLog2, int segmentCount)
    {
        var bytes = 16L + ((long)(segmentCount + Arity - 1) << segmentLengthLog2);
        return (bytes + BlockProbe.BlockBytes - 1) / BlockProbe.BlockBytes * BlockProbe.BlockBytes;
    }

    /// <summary>Peels the keys' hypergraph; returns how many keys went on the stack (all of them: success).</summary>
    private static int Peel(ReadOnlySpan<ulong> hashes, ulong seed, int segmentLengthLog2, int segmentCount, int[] counts, ulong[] xors, ulong[] stack, int[] stackSlots, int[] queue)
    {
        var slots = (segmentCount + Arity - 1) << segmentLengthLog2;
        Array.Clear(counts, 0, slots);
        Array.Clear(xors, 0, slots);
        foreach (var hash in hashes)
        {
            var (a, b, c) = Slots(Remix(hash, seed), segmentLengthLog2, segmentCount);
            counts[a]++;
            counts[b]++;
            counts[c]++;
            xors[a] ^= hash;
            xors[b] ^= hash;
            xors[c] ^= hash;
        }

        var tail = 0;
        for (var s = 0; s < slots; s++)
        {
            if (counts[s] == 1)
            {
                queue[tail++] = s;
            }
        }

        var peeled = 0;
        while (tail > 0)
        {
            var slot = queue[--tail];
            if (counts[slot] != 1)
            {
                continue;
            }

            var hash = xors[slot];
            stack[peeled] = hash;
            stackSlots[peeled++] = slot;
            var (a, b, c) = Slots(Remix(hash, seed), segmentLengthLog2, segmentCount);
            foreach (var other in (ReadOnlySpan<int>)[a, b, c])
            {
                counts[other]--;
                xors[other] ^= hash;
                if (counts[other] == 1)
                {
                    queue[tail++] = other;
                }
            }
        }

        return peeled;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Remix(ulong hash, ulong seed)
    {
        unchecked
        {
            var value = hash + seed;
            value ^= value >> 33;
            value *= 0xff51afd7ed558ccdUL;
            value ^= value >> 33;
            value *= 0xc4ceb9fe1a85ec53UL;
            value ^= value >> 33;
            return value;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte Fingerprint(ulong x) => (byte)(x ^ (x >> 32));

    /// <summary>The three slots of a remixed hash: a segment from the high bits (a fast range reduction), then one slot in it and in each of the next two.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (int A, int B, int C) Slots(ulong x, int segmentLengthLog2, int segmentCount)
    {
        var segmentLength = 1 << segmentLengthLog2;
        var mask = (ulong)(segmentLength - 1);
        var first = (int)Math.BigMul(x, (ulong)segmentCount << segmentLengthLog2, out _);
        var a = first;
        var b = (first + segmentLength) ^ (int)((x >> 18) & mask);
        var c = (first + (2 * segmentLength)) ^ (int)(x & mask);
        return (a, b, c);
    }
}
