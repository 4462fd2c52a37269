using ReadHistory.Core.Routing;
using ReadHistory.Server.Storage;
using Xunit;

namespace ReadHistory.Server.Tests.Storage;

public sealed class ShardNamesTests
{
    [Fact]
    public void Shards_map_to_database_and_table_names_in_the_order_of_the_shard_map()
    {
        var map = new ShardMap(2, 2);
        var names = new ShardNames("readhistory", 2, 2);

        for (ulong user = 1; user < 1000; user++)
        {
            var (database, table) = map.Locate(user);
            Assert.Equal($"`readhistory_{database}`.`reads_{table}`", names.QualifiedTable(map.ShardOf(user)));
        }

        Assert.Equal("readhistory_meta", names.MetaDatabase);
    }

    [Fact]
    public void Users_spread_evenly_over_four_shards()
    {
        var map = new ShardMap(2, 2);
        var counts = new int[4];
        for (ulong user = 1; user <= 100_000; user++)
        {
            counts[map.ShardOf(user)]++;
        }

        Assert.All(counts, c => Assert.InRange(c, 24_000, 26_000));
    }

    [Fact]
    public void A_shard_is_pinned_forever()
    {
        // These values are stored data: if they change, users lose their history.
        var map = new ShardMap(2, 2);
        var again = new ShardMap(2, 2);
        Assert.All(Enumerable.Range(1, 1000), u => Assert.Equal(map.ShardOf((ulong)u), again.ShardOf((ulong)u)));
    }

    [Theory]
    [InlineData("readhistory", true)]
    [InlineData("rh_test_1", true)]
    [InlineData("", false)]
    [InlineData("a-b", false)]
    [InlineData("a`b", false)]
    public void Only_plain_identifiers_are_accepted(string name, bool ok) =>
        Assert.Equal(ok, ShardNames.IsSafeIdentifier(name, 40));
}
