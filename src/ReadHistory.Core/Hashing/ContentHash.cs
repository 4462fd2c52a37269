using System.Runtime.CompilerServices;

namespace ReadHistory.Core.Hashing;

/// <summary>
/// The seeded 64-bit hash of a content key (content_type, content_id) that the Bloom filters probe with.
/// </summary>
/// <remarks>
/// This is wyhash (final4, Wang Yi, public domain) restricted to its ≤ 16-byte path and specialised to the
/// 10-byte little-endian key <c>type (2 bytes) ‖ id (8 bytes)</c>. Why wyhash: it is a 128-bit multiply
/// fold (<c>lo ^ hi</c> of a 64×64→128 product), two of them per short key, so every input bit reaches
/// every output bit after the first fold and the second fold mixes the seed in again; it passes SMHasher
/// and is among the fastest short-key hashes on x64 (MULX is one instruction, 3–4 cycles). For this key
/// the four overlapping 4-byte reads wyhash makes collapse to two shifts: the second word is the id itself.
/// The seed is premixed once (as wyhash does on every call) in the constructor.
/// Known and accepted weakness (shared with wyhash): the one id equal to the premixed seed zeroes a
/// multiplicand and hashes the same for every content type — probability 2⁻⁶⁴ per id and seed.
/// </remarks>
public readonly struct ContentHash : IEquatable<ContentHash>
{
    // wyhash's default secret (wyp0..wyp1 of final4).
    internal const ulong Secret0 = 0x2d358dccaa6c78a5UL;
    internal const ulong Secret1 = 0x8bb84b93962eacc9UL;

    /// <summary>Length in bytes of the serialized key, folded into the result as wyhash does.</summary>
    internal const ulong KeyLength = 10;

    private readonly ulong _mixedSeed;

    /// <summary>Creates the hash for one seed (the seed is premixed once here).</summary>
    public ContentHash(ulong seed)
    {
        Seed = seed;
        _mixedSeed = seed ^ Mix(seed ^ Secret0, Secret1);
    }

    /// <summary>The seed this hash was created with.</summary>
    public ulong Seed { get; }

    /// <summary>Hashes one content key.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Compute(ushort contentType, ulong contentId)
    {
        unchecked
        {
            // wyhash reads, for len = 10: a = r4(p) << 32 | r4(p + 4), b = r4(p + 6) << 32 | r4(p + 2),
            // where p = type (LE 2 bytes) then id (LE 8 bytes). r4(p) = type | (id & 0xFFFF) << 16,
            // r4(p + 4) = (id >> 16) as 32 bits, r4(p + 6) = id >> 32, r4(p + 2) = (uint)id: b == id.
            ulong a = ((contentType | ((contentId & 0xFFFF) << 16)) << 32) | ((contentId >> 16) & 0xFFFF_FFFFUL);
            // _wymum(a ^ s1, b ^ seed) then _wymix(lo ^ s0 ^ len, hi ^ s1).
            ulong hi = Math.BigMul(a ^ Secret1, contentId ^ _mixedSeed, out ulong lo);
            return Mix(lo ^ Secret0 ^ KeyLength, hi ^ Secret1);
        }
    }

    /// <summary>Hashes one content key with the given seed (premixes the seed on each call; prefer an instance).</summary>
    public static ulong Compute(ushort contentType, ulong contentId, ulong seed) => new ContentHash(seed).Compute(contentType, contentId);

    /// <summary>wyhash's _wymix: the xor of the two halves of the 128-bit product.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong Mix(ulong a, ulong b)
    {
        ulong hi = Math.BigMul(a, b, out ulong lo);
        return hi ^ lo;
    }

    /// <inheritdoc/>
    public bool Equals(ContentHash other) => Seed == other.Seed;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is ContentHash other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => Seed.GetHashCode();

    /// <summary>Two hashes are equal when their seeds are.</summary>
    public static bool operator ==(ContentHash left, ContentHash right) => left.Equals(right);

    /// <summary>Two hashes differ when their seeds do.</summary>
    public static bool operator !=(ContentHash left, ContentHash right) => !left.Equals(right);
}
