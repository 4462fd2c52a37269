using ReadHistory.Server.Cache;
using ReadHistory.Server.Topology;
using Xunit;
using ReadHistory.TestSupport.Server;

namespace ReadHistory.Server.Tests.Hosting;

public sealed class WarmStartPeersTests
{
    private static readonly TopologyOptions Topology = new()
    {
        Pools =
        [
            new PoolOptions { Name = "feed", Slots = [new SlotOptions { Replicas = ["http://a0:1", "http://a1:1", "http://a2:1"] }, new SlotOptions { Replicas = ["http://b0:1", "http://b1:1", "http://b2:1"] }] },
        ],
    };

    [Theory]
    [InlineData("cache-3", "http://b1:1/,http://b2:1/")]
    [InlineData("cache-4", "http://b2:1/,http://b0:1/")]
    [InlineData("cache-5", "http://b0:1/,http://b1:1/")]
    [InlineData("cache-0", "http://a1:1/,http://a2:1/")]
    public void A_node_s_peers_are_the_other_replicas_of_its_slot_starting_after_its_own(string nodeName, string expected)
    {
        var placement = new NodePlacement(nodeName, "feed", slot: -1, replica: -1, replicasPerSlot: 3);

        var peers = placement.PeersIn(Topology);

        Assert.Equal(expected, string.Join(',', peers));
    }

    [Fact]
    public void An_explicit_replica_index_overrides_the_ordinal()
    {
        var placement = new NodePlacement("node", "feed", slot: 1, replica: 2, replicasPerSlot: 1);

        Assert.Equal("http://b0:1/,http://b1:1/", string.Join(',', placement.PeersIn(Topology)));
    }

    [Fact]
    public void A_pool_or_slot_missing_from_the_topology_has_no_peers()
    {
        Assert.Empty(new NodePlacement("cache-0", "push", slot: -1, replica: -1, replicasPerSlot: 1).PeersIn(Topology));
        Assert.Empty(new NodePlacement("cache-0", "feed", slot: 7, replica: -1, replicasPerSlot: 1).PeersIn(Topology));
    }

    [Theory]
    [InlineData("Replica", -2, "ReadHistory:Cache:Replica")]
    [InlineData("WarmStartChunkBytes", 32, "ReadHistory:Cache:WarmStartChunkBytes")]
    [InlineData("WarmStartChunkBytes", 8 << 20, "ReadHistory:Cache:WarmStartChunkBytes")]
    [InlineData("WarmStartWindowBytes", (64 << 10) - 1, "ReadHistory:Cache:WarmStartWindowBytes")]
    [InlineData("WarmStartWindowBytes", (16 << 20) + 1, "ReadHistory:Cache:WarmStartWindowBytes")]
    public void Bad_warm_start_settings_are_reported_by_key(string property, int value, string key)
    {
        var options = ShippedDefaults.Cache();
        typeof(CacheNodeOptions).GetProperty(property)!.SetValue(options, value);
        var problems = new List<string>();

        options.Validate(problems);

        Assert.Contains(problems, p => p.StartsWith(key + ":", StringComparison.Ordinal));
    }

    [Fact]
    public void A_negative_warm_start_timeout_is_reported_by_key()
    {
        var problems = new List<string>();

        ShippedDefaults.Cache(static o => o.WarmStartTimeout = TimeSpan.FromSeconds(-1)).Validate(problems);

        Assert.Contains(problems, static p => p.StartsWith("ReadHistory:Cache:WarmStartTimeout:", StringComparison.Ordinal));
    }
}
