namespace ReadHistory.Core.Routing;

/// <summary>A 64-bit finalizer (the murmur3 fmix64 constants): every input bit affects every output bit.</summary>
public static class Mix64
{
    /// <summary>Mixes a 64-bit value into a well-distributed 64-bit value (a bijection).</summary>
    public static ulong Finalize(ulong value)
    {
        unchecked
        {
            value ^= value >> 33;
            value *= 0xff51afd7ed558ccdUL;
            value ^= value >> 33;
            value *= 0xc4ceb9fe1a85ec53UL;
            value ^= value >> 33;
            return value;
        }
    }

    /// <summary>Mixes two values into one, order-sensitive.</summary>
    public static ulong Combine(ulong first, ulong second) =>
        Finalize(unchecked(first + (0x9e3779b97f4a7c15UL * (second + 1))));
}
