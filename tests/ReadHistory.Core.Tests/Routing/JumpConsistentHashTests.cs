using ReadHistory.Core.Routing;
using Xunit;

namespace ReadHistory.Core.Tests.Routing;

public sealed class JumpConsistentHashTests
{
    [Fact]
    public void Sequential_users_spread_evenly_over_slots()
    {
        const int slots = 16;
        const int users = 1_000_000;
        var counts = new int[slots];
        for (ulong user = 1; user <= users; user++)
        {
            counts[JumpConsistentHash.Bucket(user, slots)]++;
        }

        var expected = users / (double)slots;
        Assert.All(counts, c => Assert.InRange(c, expected * 0.97, expected * 1.03));
    }

    [Fact]
    public void Growing_by_one_slot_moves_only_keys_to_the_new_slot()
    {
        var moved = 0;
        for (ulong user = 1; user <= 200_000; user++)
        {
            var before = JumpConsistentHash.Bucket(user, 10);
            var after = JumpConsistentHash.Bucket(user, 11);
            if (before != after)
            {
                Assert.Equal(10, after);
                moved++;
            }
        }

        Assert.InRange(moved / 200_000.0, 1 / 11.0 * 0.9, 1 / 11.0 * 1.1);
    }

    [Theory]
    [InlineData(1UL, 3)]
    [InlineData(2UL, 0)]
    [InlineData(3UL, 15)]
    [InlineData(1000UL, 1)]
    [InlineData(ulong.MaxValue, 12)]
    public void Slots_are_pinned_so_proxies_and_cdc_of_any_version_agree(ulong user, int slot)
    {
        Assert.Equal(slot, JumpConsistentHash.Bucket(user, 16));
        Assert.Equal(0, JumpConsistentHash.Bucket(user, 1));
    }

    [Fact]
    public void Zero_buckets_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => JumpConsistentHash.Bucket(1, 0));
    }
}
