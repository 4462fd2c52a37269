using ReadHistory.Core.Routing;
using Xunit;

namespace ReadHistory.Core.Tests.Routing;

public sealed class ShardMapTests
{
    [Fact]
    public void Users_spread_evenly_over_shards()
    {
        var map = new ShardMap(4, 8);
        var counts = new int[map.ShardCount];
        for (ulong user = 1; user <= 320_000; user++)
        {
            counts[map.ShardOf(user)]++;
        }

        Assert.All(counts, c => Assert.InRange(c, 10_000 * 0.95, 10_000 * 1.05));
    }

    [Theory]
    [InlineData(1UL, 6)]
    [InlineData(2UL, 5)]
    [InlineData(3UL, 1)]
    [InlineData(1000UL, 6)]
    [InlineData(ulong.MaxValue, 0)]
    public void The_function_is_pinned_for_a_shape(ulong user, int shard)
    {
        // These values are the on-disk contract: changing the function would strand rows in the wrong tables.
        var map = new ShardMap(2, 4);
        Assert.Equal(shard, map.ShardOf(user));
        var (database, table) = map.Locate(user);
        Assert.Equal(shard, (database * 4) + table);
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 0)]
    [InlineData(1025, 1)]
    public void Out_of_range_shapes_are_refused(int databases, int tables)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ShardMap(databases, tables));
    }
}
