using ReadHistory.Core.Filters;

namespace ReadHistory.Benchmarks.Filters;

/// <summary>
/// The split-block alternative (Parquet / Impala SBBF widened to 512 bits: 8 × 64-bit words, one bit in each),
/// kept here so the filter-fpr report can measure it beside <see cref="BlockedBloomFilter"/>'s scheme (same block
/// selection); no product path uses it.
/// </summary>
internal sealed class SplitBlockFilter
{
    private const int BlockWords = BlockedBloomFilter.BlockBits / 64;

    // Parquet's SBBF salts: odd 32-bit multipliers, one per word.
    private static readonly uint[] Salts = [0x47b6137bu, 0x44974d91u, 0x8824ad5bu, 0xa2b7289du, 0x705495c7u, 0x2df1424bu, 0x9efc4947u, 0x5c6bfb31u];

    private readonly ulong[] _words;
    private readonly int _blockCount;

    /// <summary>Creates an empty filter of <paramref name="blockCount"/> 512-bit blocks.</summary>
    public SplitBlockFilter(int blockCount)
    {
        _blockCount = blockCount;
        _words = new ulong[blockCount * BlockWords];
    }

    /// <summary>Sets one bit in each word of the key's block.</summary>
    public void Add(ulong hash)
    {
        var block = BlockIndex(hash) * BlockWords;
        for (var w = 0; w < BlockWords; w++)
        {
            _words[block + w] |= 1UL << (int)(unchecked((uint)hash * Salts[w]) >> 26);
        }
    }

    /// <summary>True when the key's bit is set in every word of its block.</summary>
    public bool MightContain(ulong hash)
    {
        var block = BlockIndex(hash) * BlockWords;
        for (var w = 0; w < BlockWords; w++)
        {
            if ((_words[block + w] & (1UL << (int)(unchecked((uint)hash * Salts[w]) >> 26))) == 0)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The block of a key: the high 32 bits of its hash scaled to the block count (BlockedBloomFilter's own rule).</summary>
    private int BlockIndex(ulong hash) => (int)(((hash >> 32) * (uint)_blockCount) >> 32);
}
