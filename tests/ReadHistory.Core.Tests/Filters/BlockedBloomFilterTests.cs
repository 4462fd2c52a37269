using System.Runtime.InteropServices;
using ReadHistory.Core.Filters;
using Xunit;

namespace ReadHistory.Core.Tests.Filters;

public sealed class BlockedBloomFilterTests
{
    public static TheoryData<int> ProbeCounts => new() { 1, 2, 5, 6, 7, 8, 9, 12, 16 };

    [Fact]
    public void Every_added_key_is_reported_present()
    {
        var filter = BlockedBloomFilter.Create(100_000, 0.01);
        var hashes = RandomHashes(100_000, seed: 3);
        foreach (var h in hashes)
        {
            filter.Add(h);
        }

        Assert.All(hashes, h => Assert.True(filter.MightContain(h)));
        var bitmap = new byte[FilterBitmap.BytesFor(hashes.Length)];
        foreach (var path in SupportedPaths())
        {
            Assert.Equal(0, filter.CheckMany(hashes, bitmap, path));
            Assert.All(bitmap[..^1], b => Assert.Equal(0xFF, b));
        }
    }

    [Theory]
    [MemberData(nameof(ProbeCounts))]
    public void Scalar_avx2_and_avx512_paths_give_identical_bitmaps(int probes)
    {
        var filter = new BlockedBloomFilter(blockCount: 64, probes, capacity: 3000, designRate: 0.01);
        foreach (var h in RandomHashes(64 * 512 / (probes * 2), seed: probes)) // about half the bits set
        {
            filter.Add(h);
        }

        var queries = RandomHashes(5000, seed: 100 + probes);
        foreach (var length in new[] { 0, 1, 7, 8, 63, 64, 65, 130, 5000 })
        {
            var expected = new byte[FilterBitmap.BytesFor(length)];
            var expectedAbsent = filter.CheckMany(queries.AsSpan(0, length), expected, ProbePath.Scalar);
            for (var i = 0; i < length; i++)
            {
                Assert.Equal(filter.MightContain(queries[i]), (expected[i >> 3] & (1 << (i & 7))) != 0);
            }

            foreach (var path in SupportedPaths())
            {
                var actual = new byte[expected.Length];
                Assert.Equal(expectedAbsent, filter.CheckMany(queries.AsSpan(0, length), actual, path));
                Assert.Equal(expected, actual);
            }
        }
    }

    [Fact]
    public void Check_many_clears_the_spare_bits_of_the_last_byte_and_returns_the_absent_count()
    {
        var filter = BlockedBloomFilter.Create(100, 0.01);
        filter.Add(11);
        var bitmap = new byte[] { 0xFF, 0xFF };
        var absent = filter.CheckMany([11, 12, 11], bitmap);
        Assert.Equal(0b101, bitmap[0] & 0b111);
        Assert.Equal(0, bitmap[0] & 0xF8);
        Assert.Equal(0xFF, bitmap[1]); // beyond ceil(n / 8) bytes nothing is written
        Assert.Equal(3 - System.Numerics.BitOperations.PopCount(bitmap[0]), absent);
    }

    [Fact]
    public void Check_many_rejects_a_bitmap_too_short()
    {
        var filter = BlockedBloomFilter.Create(100, 0.01);
        var error = Assert.Throws<ArgumentException>(() => filter.CheckMany(new ulong[9], new byte[1]));
        Assert.Contains("needs 2 bytes for 9 items; it has 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_layer_is_one_array_of_two_header_words_then_its_blocks()
    {
        for (var i = 0; i < 50; i++)
        {
            var filter = new BlockedBloomFilter(1 + i, 6, 10, 0.01);
            Assert.Equal((1 + i) * 8, filter.Words.Length);
            Assert.Equal(2 + ((1 + i) * 8), filter.Array.Length);
        }
    }

    [Fact]
    public void Measured_rate_at_ten_bits_per_item_is_at_most_one_percent_and_matches_the_model()
    {
        // 10 bits/item exactly: 51.2 items per block; 8 probes would be 1.01 %, the model's best k here is 6 or 7.
        const int blocks = 20_000;
        const int items = blocks * 512 / 10;
        var plan = FilterMath.Plan(0.0096);
        var filter = new BlockedBloomFilter(blocks, plan.Probes, items, 0.0096);
        foreach (var h in RandomHashes(items, seed: 5))
        {
            filter.Add(h);
        }

        var queries = RandomHashes(2_000_000, seed: 6);
        var hits = 0;
        foreach (var h in queries)
        {
            hits += filter.MightContain(h) ? 1 : 0;
        }

        var measured = hits / (double)queries.Length;
        var model = FilterMath.FalsePositiveRate(items / (double)blocks, plan.Probes);
        Assert.InRange(measured, 0, 0.0100);
        Assert.InRange(measured, model * 0.95, model * 1.05); // 2 M queries: σ ≈ 0.7 % of the rate
    }

    [Fact]
    public void Sizing_for_one_percent_uses_at_most_ten_and_a_half_bits_per_item()
    {
        var filter = BlockedBloomFilter.Create(1_000_000, 0.01);
        Assert.InRange(filter.BitBytes * 8.0 / filter.Capacity, 9.5, 10.5);
    }

    internal static ulong[] RandomHashes(int count, int seed)
    {
        var random = new Random(seed);
        var hashes = new ulong[count];
        random.NextBytes(MemoryMarshal.AsBytes(hashes.AsSpan()));
        return hashes;
    }

    internal static IEnumerable<ProbePath> SupportedPaths() =>
        Enum.GetValues<ProbePath>().Where(ProbePaths.IsSupported);
}
