using System.Globalization;
using Grpc.Net.Client;
using ReadHistory.Api.V1;
using ReadHistory.Server.IntegrationTests.Hosting;
using ReadHistory.TestSupport;
using ReadHistory.TestSupport.Server;
using Xunit;
using ReadHistoryClient = ReadHistory.Api.V1.ReadHistory.ReadHistoryClient;

namespace ReadHistory.Server.IntegrationTests.Proxy;

/// <summary>
/// An overloaded node, slow but alive: it answers its health probes late but still answers calls, so the proxy keeps
/// routing to it (no ejection under overload) and ejects it only once it answers nothing at all, as a frozen node
/// does; and when it is the only candidate left, its attempt gets the caller's whole remaining time rather than half.
/// </summary>
[Collection(MariaDbFixture.Collection)]
public sealed class SlowProbeTests(MariaDbFixture mariaDb)
{
    // Rule 20 of the fake nodes: an answer.
    private const ulong User = 20;

    [Fact]
    public async Task A_replica_whose_probes_time_out_keeps_its_sessions_while_it_answers_calls_and_is_ejected_once_it_stops()
    {
        var nodes = new List<FakeCacheNode>();
        try
        {
            nodes.Add(await FakeCacheNode.StartAsync(replica: 0));
            nodes.Add(await FakeCacheNode.StartAsync(replica: 1));
            await using var proxy = await StartProxyAsync(nodes);
            using var channel = GrpcChannel.ForAddress(proxy.Grpc);
            var client = new ReadHistoryClient(channel);

            // Every probe of node 0 now runs out of its 50 ms; 200 calls over many sessions take several probe rounds.
            nodes[0].HealthDelay = TimeSpan.FromSeconds(2);
            var session = 0;
            await CallAsync(client, 100, () => session++);
            var before = nodes[0].CheckCalls;
            await CallAsync(client, 100, () => session++);

            Assert.True(nodes[0].CheckCalls - before > 10, $"node 0 took {nodes[0].CheckCalls - before} of the last 100 calls: ejected while it answered");

            // No calls any more: its probes count again, and it leaves routing.
            var address = nodes[0].Address.ToString().TrimEnd('/');
            await WaitUntilAsync(async () => (await proxy.MetricsAsync()).Contains($"readhistory_proxy_replica_healthy{{pool=\"default\",replica=\"{address}\",slot=\"0\"}} 0", StringComparison.Ordinal));
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_slow_answer_of_the_only_replica_is_waited_for_within_the_callers_deadline()
    {
        var nodes = new List<FakeCacheNode>();
        try
        {
            nodes.Add(await FakeCacheNode.StartAsync(replica: 0));
            await using var proxy = await StartProxyAsync(nodes);
            using var channel = GrpcChannel.ForAddress(proxy.Grpc);
            var client = new ReadHistoryClient(channel);

            // More than half of the caller's 3 s, well within all of it: nothing else could answer, so the proxy waits.
            nodes[0].CheckDelay = TimeSpan.FromSeconds(2);
            var request = new CheckRequest { UserId = User, ContentIds = { 3, 4 }, SessionId = "slow" };
            var answer = await client.CheckAsync(request, deadline: DateTime.UtcNow.AddSeconds(3)).ResponseAsync.DefaultTimeout();

            Assert.Equal(new byte[] { 0b01 }, answer.ReadBitmap.ToByteArray());
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }
        }
    }

    private static async Task CallAsync(ReadHistoryClient client, int calls, Func<int> nextSession)
    {
        for (var n = 0; n < calls; n++)
        {
            var request = new CheckRequest { UserId = User, ContentIds = { 3, 4 }, SessionId = "s" + nextSession().ToString(CultureInfo.InvariantCulture) };
            var answer = await client.CheckAsync(request, TestHost.Deadline()).ResponseAsync.DefaultTimeout();
            Assert.Equal(new byte[] { 0b01 }, answer.ReadBitmap.ToByteArray());
            // Spread over the probe rounds (100 ms each).
            await Task.Delay(5);
        }
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(50);
        }

        Assert.Fail("the condition did not hold within 10 s");
    }

    private async Task<TestHost> StartProxyAsync(List<FakeCacheNode> nodes)
    {
        var settings = TestHost.Settings("proxy", mariaDb.Server.ConnectionString(), "slowprobe" + Guid.NewGuid().ToString("N")[..8]);
        settings["ReadHistory:Proxy:HealthCheckInterval"] = "00:00:00.100";
        settings["ReadHistory:Proxy:HealthCheckTimeout"] = "00:00:00.050";
        // The breaker never opens: only the probes decide here.
        settings["ReadHistory:Proxy:MinimumThroughput"] = "1000000";
        settings["ReadHistory:Topology:Pools:0:Name"] = "default";
        settings["ReadHistory:Topology:Pools:0:Tenants:0"] = string.Empty;
        for (var n = 0; n < nodes.Count; n++)
        {
            settings[$"ReadHistory:Topology:Pools:0:Slots:0:Replicas:{n}"] = nodes[n].Address.ToString().TrimEnd('/');
        }

        var proxy = await TestHost.StartReadyAsync(settings);
        await ProxyCluster.WaitAllHealthyAsync(proxy, nodes.Count);
        return proxy;
    }
}
