namespace ReadHistory.Core.Routing;

/// <summary>
/// Jump consistent hash (Lamping and Veach, 2014, arXiv:1406.2294): maps a key to one of n buckets so that
/// growing n to n + 1 moves only 1/(n + 1) of the keys, with no table and no memory.
/// </summary>
public static class JumpConsistentHash
{
    /// <summary>The bucket in [0, buckets) for a key.</summary>
    public static int Bucket(ulong key, int buckets)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(buckets, 1);

        // The paper's generator steps the key with a 64-bit LCG and jumps forward; it expects well-mixed keys,
        // and user ids are often sequential, so the key is mixed first.
        key = Mix64.Finalize(key);
        long b = -1;
        long j = 0;
        while (j < buckets)
        {
            b = j;
            key = unchecked((key * 2862933555777941757UL) + 1);
            j = (long)((b + 1) * ((double)(1L << 31) / ((key >> 33) + 1)));
        }

        return (int)b;
    }
}
