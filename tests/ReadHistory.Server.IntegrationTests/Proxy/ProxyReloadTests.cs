using Microsoft.Extensions.Configuration;
using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.Server.IntegrationTests.Proxy;

[Collection(MariaDbFixture.Collection)]
public sealed class ProxyReloadTests(MariaDbFixture mariaDb)
{
    [Fact]
    public async Task A_topology_reload_under_load_loses_no_call_and_a_bad_reload_keeps_the_old_table()
    {
        await using var cluster = await ProxyCluster.StartAsync(mariaDb.Server.ConnectionString(), [("default", [""], 2, 2)]);
        await using var newcomer = await cluster.StartNodeAsync("default");
        await ReadLoad.SeedAsync(cluster.Invoker);
        var load = new ReadLoad();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(90)); // a bound only: the test stops the load itself
        var running = load.RunAsync(cluster.Invoker, workers: 4, maxCalls: 3000, deadlineMs: 5000, stop.Token);
        await WaitForReadsAsync(load, 200);

        // Replace replica 1 of both slots by the newcomer: configuration sources added later win, and adding one reloads.
        var configuration = (IConfigurationBuilder)cluster.Proxy.App.Configuration;
        configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ReadHistory:Topology:Pools:0:Slots:0:Replicas:1"] = newcomer.Internal.ToString().TrimEnd('/'),
            ["ReadHistory:Topology:Pools:0:Slots:1:Replicas:1"] = newcomer.Internal.ToString().TrimEnd('/'),
        });
        var reloaded = load.Reads;
        await WaitForReadsAsync(load, reloaded + 300);

        // A bad topology is refused; traffic goes on by the table in force.
        configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["ReadHistory:Topology:Pools:0:Slots:0:Replicas:0"] = "not a uri" });
        var refused = load.Reads;
        await WaitForReadsAsync(load, refused + 300);
        await stop.CancelAsync();
        await running.DefaultTimeout();

        Assert.Empty(load.Failures);
        Assert.True(await ProxyCluster.LookupsAsync(newcomer) > 0, "the newcomer took no traffic after the reload");
    }

    // Reads are slow on a loaded machine.
    private static Task WaitForReadsAsync(ReadLoad load, int reads) =>
        Poll.UntilAsync(() => load.Reads >= reads, $"the load to make {reads} reads");
}
