using Microsoft.Extensions.Configuration;
using ReadHistory.Server.Topology;
using Xunit;

namespace ReadHistory.Server.Tests.Hosting;

public sealed class TopologyOptionsTests
{
    [Fact]
    public void A_topology_from_environment_style_keys_binds_including_the_empty_default_tenant()
    {
        var options = Bind(new Dictionary<string, string?>
        {
            ["ReadHistory:Topology:Pools:0:Name"] = "feed",
            ["ReadHistory:Topology:Pools:0:Tenants:0"] = string.Empty,
            ["ReadHistory:Topology:Pools:0:Tenants:1"] = "feed",
            ["ReadHistory:Topology:Pools:0:Slots:0:Replicas:0"] = "http://cache-feed-0.cache-feed:50051",
            ["ReadHistory:Topology:Pools:0:Slots:0:Replicas:1"] = "http://cache-feed-1.cache-feed:50051",
            ["ReadHistory:Topology:Pools:1:Name"] = "push",
            ["ReadHistory:Topology:Pools:1:Tenants:0"] = "push",
            ["ReadHistory:Topology:Pools:1:Slots:0:Replicas:0"] = "http://cache-push-0.cache-push:50051",
        });

        Assert.Empty(Problems(options));
        Assert.Equal(["", "feed"], options.Pools[0].Tenants);
        Assert.Equal(2, options.Pools[0].Slots[0].Replicas.Count);
        Assert.Equal("push", options.Pools[1].Name);
    }

    [Fact]
    public void A_tenant_in_two_pools_and_a_bad_replica_are_named()
    {
        var options = Bind(new Dictionary<string, string?>
        {
            ["ReadHistory:Topology:Pools:0:Name"] = "feed",
            ["ReadHistory:Topology:Pools:0:Tenants:0"] = "feed",
            ["ReadHistory:Topology:Pools:0:Slots:0:Replicas:0"] = "cache-0:50051",
            ["ReadHistory:Topology:Pools:1:Name"] = "push",
            ["ReadHistory:Topology:Pools:1:Tenants:0"] = "feed",
        });

        var problems = Problems(options);
        Assert.Contains(problems, p => p.StartsWith("ReadHistory:Topology:Pools:0:Slots:0:Replicas: 'cache-0:50051'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p == "ReadHistory:Topology:Pools:1:Tenants: tenant 'feed' is already served by pool 'feed'");
        Assert.Contains(problems, p => p == "ReadHistory:Topology:Pools:1:Slots: 0 slots is outside 1 .. 4096");
    }

    private static TopologyOptions Bind(Dictionary<string, string?> values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values).Build().GetSection(TopologyOptions.Section).Get<TopologyOptions>()!;

    private static List<string> Problems(TopologyOptions options)
    {
        var problems = new List<string>();
        options.Validate(problems);
        return problems;
    }
}
