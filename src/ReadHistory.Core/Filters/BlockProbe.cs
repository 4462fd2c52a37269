using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ReadHistory.Core.Filters;

/// <summary>
/// The probe scheme of one 512-bit block (64 bytes, not necessarily on a cache line: unaligned loads throughout): k bit positions anywhere in the block, derived from 32 bits of the
/// key hash (RocksDB's FastLocalBloom scheme), chosen over split-block by the measurement in bench/RESULTS.md.
/// </summary>
/// <remarks>
/// Probe j of a key sits at bit <c>(h2 · M^j mod 2³²) >> 23</c> of its block (the top 9 bits, 0..511), with
/// M = 0x9E3779B9 (the 32-bit golden ratio) and h2 the low 32 bits of the key hash; the high 32 bits pick the
/// block. Lanes beyond k use the multiplier 1, i.e. repeat probe 0, so a vector of 8 or 16 lanes tests exactly
/// the k probes of the scalar loop.
/// </remarks>
internal static unsafe class BlockProbe
{
    /// <summary>Bytes in a block: one cache line.</summary>
    public const int BlockBytes = 64;

    /// <summary>64-bit words in a block.</summary>
    public const int BlockWords = 8;

    /// <summary>Bits in a block.</summary>
    public const int BlockBits = 512;

    /// <summary>Most probes per key (one 16-lane vector).</summary>
    public const int MaxProbes = 16;

    /// <summary>The multiplier that steps from one probe to the next.</summary>
    public const uint Multiplier = 0x9E37_79B9;

    /// <summary>For each k (0..16), 16 lanes: M^j for lanes j &lt; k, 1 for the rest.</summary>
    private static readonly uint[] LaneMultipliers = BuildLaneMultipliers();

    /// <summary>The block a key hash falls in: a fast range reduction of the high 32 bits (Lemire).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int BlockIndex(ulong hash, int blockCount) => (int)(((hash >> 32) * (uint)blockCount) >> 32);

    /// <summary>The 16 lane multipliers for k probes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<uint> Multipliers512(int probes) =>
        Vector512.LoadUnsafe(ref LaneMultipliers[probes * 16]);

    /// <summary>Lanes 8·round .. 8·round + 7 of the lane multipliers for k probes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<uint> Multipliers256(int probes, int round) =>
        Vector256.LoadUnsafe(ref LaneMultipliers[(probes * 16) + (round * 8)]);

    /// <summary>True when all k probes of h2 are set in the block (scalar reference).</summary>
    /// <remarks>Branch-free over the probes: an early exit would mispredict about once per absent key.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool MayMatchScalar(ulong* block, uint h2, int probes)
    {
        ulong all = 1;
        for (var j = 0; j < probes; j++)
        {
            var pos = h2 >> 23;
            all &= block[pos >> 6] >> (int)(pos & 63);
            h2 = unchecked(h2 * Multiplier);
        }

        return (all & 1) != 0;
    }

    /// <summary>True when all k ≤ 16 probes of h2 are set: one permute over the whole block (AVX-512F).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool MayMatch512(ulong* block, uint h2, Vector512<uint> multipliers)
    {
        var pos = Vector512.ShiftRightLogical(Vector512.Create(h2) * multipliers, 23);
        var words = Avx512F.PermuteVar16x32(Vector512.Load((uint*)block), Vector512.ShiftRightLogical(pos, 5));
        var bits = Avx512F.ShiftLeftLogicalVariable(Vector512<uint>.One, pos & Vector512.Create(31u));
        return Vector512.AndNot(bits, words) == Vector512<uint>.Zero;
    }

    /// <summary>True when all k probes of h2 are set: rounds of 8 probes over the two block halves (AVX2).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool MayMatch256(ulong* block, uint h2, Vector256<uint> round0, Vector256<uint> round1, bool twoRounds)
    {
        var low = Vector256.Load((uint*)block);
        var high = Vector256.Load((uint*)block + 8);
        if (!Round(low, high, h2, round0))
        {
            return false;
        }

        return !twoRounds || Round(low, high, h2, round1);

        static bool Round(Vector256<uint> low, Vector256<uint> high, uint h2, Vector256<uint> multipliers)
        {
            var pos = Vector256.ShiftRightLogical(Vector256.Create(h2) * multipliers, 23);
            var word = Vector256.ShiftRightLogical(pos, 5); // 0..15; the permutes use its low 3 bits
            var fromLow = Avx2.PermuteVar8x32(low, word);
            var fromHigh = Avx2.PermuteVar8x32(high, word);
            // vblendvps picks by bit 31 of each lane: bit 3 of the word index moved there.
            var words = Avx.BlendVariable(fromLow.AsSingle(), fromHigh.AsSingle(), Vector256.ShiftLeft(word, 28).AsSingle()).AsUInt32();
            var bits = Avx2.ShiftLeftLogicalVariable(Vector256<uint>.One, pos & Vector256.Create(31u));
            return Avx.TestC(words, bits); // (~words & bits) == 0
        }
    }

    /// <summary>Fills <paramref name="masks"/> (8 words) with the bits the k probes of h2 set.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Masks(uint h2, int probes, ulong* masks)
    {
        for (var w = 0; w < BlockWords; w++)
        {
            masks[w] = 0;
        }

        for (var j = 0; j < probes; j++)
        {
            var pos = h2 >> 23;
            masks[pos >> 6] |= 1UL << (int)(pos & 63);
            h2 = unchecked(h2 * Multiplier);
        }
    }

    /// <summary>The first word of the block a key hash falls in.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong* BlockOf(ulong* blocks, int blockCount, ulong hash) => blocks + ((long)BlockIndex(hash, blockCount) * BlockWords);

    /// <summary>
    /// Sets a key's bits with plain read-modify-writes; true when at least one was not set before. The caller is the
    /// only writer (a writer lock, or a layer no other thread sees yet). Readers may run meanwhile: each word is written
    /// by one 8-byte store of a superset of its old bits, so a reader sees the old or the new word, never one with a
    /// bit cleared (a word never straddles a cache line: the array and so every word is 8-byte aligned).
    /// </summary>
    public static bool AddExclusive(ulong* blocks, int blockCount, int probes, ulong hash)
    {
        var block = BlockOf(blocks, blockCount, hash);
        var masks = stackalloc ulong[BlockWords];
        Masks((uint)hash, probes, masks);
        ulong missing = 0;
        for (var w = 0; w < BlockWords; w++)
        {
            missing |= masks[w] & ~block[w];
            block[w] |= masks[w];
        }

        return missing != 0;
    }

    /// <summary>
    /// Tests the hashes whose bit is set in <paramref name="pending"/> (at most 64) against a layer and returns the bits
    /// of those that may be present. First every block is located and prefetched, then tested, so that the cache misses
    /// of a chunk overlap instead of queueing behind each other.
    /// </summary>
    [SkipLocalsInit]
    public static ulong ProbeChunk(ulong* layer, int blockCount, int probes, ulong* hashes, ulong pending, ProbePath path)
    {
        var blocks = stackalloc ulong*[64];
        var h2 = stackalloc uint[64];
        for (var left = pending; left != 0; left &= left - 1)
        {
            var i = BitOperations.TrailingZeroCount(left);
            var hash = hashes[i];
            var block = BlockOf(layer, blockCount, hash);
            if (Sse.IsSupported)
            {
                // A block need not start on a cache line: fetch the line of its last byte too.
                Sse.Prefetch0(block);
                Sse.Prefetch0((byte*)block + BlockBytes - 1);
            }

            blocks[i] = block;
            h2[i] = (uint)hash;
        }

        ulong found = 0;
        switch (path)
        {
            case ProbePath.Vector512:
                var multipliers = Multipliers512(probes);
                for (var left = pending; left != 0; left &= left - 1)
                {
                    var i = BitOperations.TrailingZeroCount(left);
                    if (MayMatch512(blocks[i], h2[i], multipliers))
                    {
                        found |= 1UL << i;
                    }
                }

                break;
            case ProbePath.Vector256:
                var round0 = Multipliers256(probes, 0);
                var round1 = Multipliers256(probes, 1);
                var twoRounds = probes > 8;
                for (var left = pending; left != 0; left &= left - 1)
                {
                    var i = BitOperations.TrailingZeroCount(left);
                    if (MayMatch256(blocks[i], h2[i], round0, round1, twoRounds))
                    {
                        found |= 1UL << i;
                    }
                }

                break;
            default:
                for (var left = pending; left != 0; left &= left - 1)
                {
                    var i = BitOperations.TrailingZeroCount(left);
                    if (MayMatchScalar(blocks[i], h2[i], probes))
                    {
                        found |= 1UL << i;
                    }
                }

                break;
        }

        return found;
    }

    private static uint[] BuildLaneMultipliers()
    {
        var table = new uint[(MaxProbes + 1) * 16];
        for (var k = 0; k <= MaxProbes; k++)
        {
            uint power = 1;
            for (var j = 0; j < 16; j++)
            {
                table[(k * 16) + j] = j < k ? power : 1u;
                power = unchecked(power * Multiplier);
            }
        }

        return table;
    }
}
