using System.Buffers.Binary;
using System.Numerics;
using ReadHistory.Core.Hashing;
using Xunit;

namespace ReadHistory.Core.Tests.Hashing;

public sealed class ContentHashTests
{
    [Fact]
    public void Matches_byte_level_wyhash_of_the_10_byte_little_endian_key()
    {
        var random = new Random(1);
        Span<byte> key = stackalloc byte[10];
        for (var i = 0; i < 10_000; i++)
        {
            var type = (ushort)random.Next(0, 65536);
            var id = (ulong)random.NextInt64() ^ ((ulong)random.Next() << 40);
            var seed = (ulong)random.NextInt64();
            BinaryPrimitives.WriteUInt16LittleEndian(key, type);
            BinaryPrimitives.WriteUInt64LittleEndian(key[2..], id);

            Assert.Equal(ReferenceWyhash(key, seed), new ContentHash(seed).Compute(type, id));
        }
    }

    [Theory]
    [InlineData((ushort)0, 0UL, 0UL, 0x9f590dea57423375UL)]
    [InlineData((ushort)1, 42UL, 7UL, 0x80ce666c16480483UL)]
    [InlineData((ushort)3, 123_456_789UL, 0x5EEDUL, 0xbf376429831d21c3UL)]
    [InlineData((ushort)0xFFFF, ulong.MaxValue, ulong.MaxValue, 0x141a56cd3296ba4fUL)]
    public void Known_values_stay_fixed_because_stored_snapshots_depend_on_them(ushort type, ulong id, ulong seed, ulong expected)
    {
        // Computed independently (a few lines of Python over the 10-byte key, wyhash final4's short path).
        Assert.Equal(expected, ContentHash.Compute(type, id, seed));
    }

    [Fact]
    public void Every_input_bit_flips_every_output_bit_about_half_the_time()
    {
        const int samples = 20_000;
        var hash = new ContentHash(0x1234_5678_9ABC_DEF0UL);
        var flips = new int[80, 64];
        var random = new Random(2);
        for (var s = 0; s < samples; s++)
        {
            var type = (ushort)random.Next(0, 65536);
            var id = (ulong)random.NextInt64() ^ ((ulong)random.Next() << 33);
            var h = hash.Compute(type, id);
            for (var bit = 0; bit < 80; bit++)
            {
                var diff = bit < 64
                    ? h ^ hash.Compute(type, id ^ (1UL << bit))
                    : h ^ hash.Compute((ushort)(type ^ (1 << (bit - 64))), id);
                while (diff != 0)
                {
                    flips[bit, BitOperations.TrailingZeroCount(diff)]++;
                    diff &= diff - 1;
                }
            }
        }

        // σ of a proportion over 20 000 samples is 0.0035; ±0.025 is 7σ, so a pass is not luck and a fail is a bias.
        double worst = 0;
        for (var i = 0; i < 80; i++)
        {
            for (var o = 0; o < 64; o++)
            {
                worst = Math.Max(worst, Math.Abs((flips[i, o] / (double)samples) - 0.5));
            }
        }

        Assert.InRange(worst, 0, 0.025);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(0xFFFF)]
    public void Sequential_ids_fill_buckets_evenly_by_high_bits_low_bits_and_block_range(ushort type)
    {
        const int buckets = 1024;
        const int ids = 1_000_000;
        var hash = new ContentHash(42);
        var high = new long[buckets];
        var low = new long[buckets];
        var range = new long[buckets];
        for (ulong id = 1; id <= ids; id++)
        {
            var h = hash.Compute(type, id);
            high[h >> 54]++;
            low[h & (buckets - 1)]++;
            range[(int)(((h >> 32) * 1000UL) >> 32)]++; // the filter's block choice (fast range), 1000 blocks
        }

        // χ² with 1023 (999) degrees of freedom: mean ≈ dof, σ ≈ √(2·dof) ≈ 45; 1250 is 5σ above the mean.
        Assert.InRange(ChiSquare(high, buckets), 0, 1250);
        Assert.InRange(ChiSquare(low, buckets), 0, 1250);
        Assert.InRange(ChiSquare(range, 1000), 0, 1225);
    }

    [Fact]
    public void Different_seeds_give_independent_hashes()
    {
        const int samples = 200_000;
        var first = new ContentHash(1);
        var second = new ContentHash(2); // adjacent seeds are the hard case
        var bitAgreement = new int[64];
        var joint = new long[32 * 32];
        for (ulong id = 0; id < samples; id++)
        {
            var a = first.Compute(7, id);
            var b = second.Compute(7, id);
            var same = ~(a ^ b);
            for (var bit = 0; bit < 64; bit++)
            {
                bitAgreement[bit] += (int)((same >> bit) & 1);
            }

            joint[((a >> 59) * 32) + (b >> 59)]++;
        }

        // Each output bit agrees across seeds half the time (σ = 0.0011; ±0.006 is 5.4σ).
        Assert.All(bitAgreement, n => Assert.InRange(n / (double)samples, 0.494, 0.506));
        // The pair (bucket under seed 1, bucket under seed 2) is uniform over 32 × 32: χ² with 1023 dof.
        Assert.InRange(ChiSquare(joint, 32 * 32), 0, 1250);
    }

    [Fact]
    public void Content_type_separates_equal_ids()
    {
        var hash = new ContentHash(9);
        var seen = new HashSet<ulong>();
        for (ushort type = 0; type < 1000; type++)
        {
            for (ulong id = 0; id < 100; id++)
            {
                Assert.True(seen.Add(hash.Compute(type, id)));
            }
        }
    }

    private static double ChiSquare(long[] counts, int buckets)
    {
        double total = 0;
        for (var i = 0; i < buckets; i++)
        {
            total += counts[i];
        }

        var expected = total / buckets;
        double chi = 0;
        for (var i = 0; i < buckets; i++)
        {
            var d = counts[i] - expected;
            chi += d * d / expected;
        }

        return chi;
    }

    /// <summary>wyhash final4, the ≤ 16-byte path, written from the reference C as directly as possible.</summary>
    internal static ulong ReferenceWyhash(ReadOnlySpan<byte> p, ulong seed)
    {
        const ulong s0 = 0x2d358dccaa6c78a5UL, s1 = 0x8bb84b93962eacc9UL;
        var len = p.Length;
        Assert.InRange(len, 4, 16);
        seed ^= WyMix(seed ^ s0, s1);
        var shift = (len >> 3) << 2;
        ulong a = ((ulong)R4(p) << 32) | R4(p[shift..]);
        ulong b = ((ulong)R4(p[(len - 4)..]) << 32) | R4(p[(len - 4 - shift)..]);
        a ^= s1;
        b ^= seed;
        var hi = Math.BigMul(a, b, out var lo);
        a = lo;
        b = hi;
        return WyMix(a ^ s0 ^ (ulong)len, b ^ s1);

        static uint R4(ReadOnlySpan<byte> q) => BinaryPrimitives.ReadUInt32LittleEndian(q);
        static ulong WyMix(ulong x, ulong y)
        {
            var h = Math.BigMul(x, y, out var l);
            return h ^ l;
        }
    }
}
