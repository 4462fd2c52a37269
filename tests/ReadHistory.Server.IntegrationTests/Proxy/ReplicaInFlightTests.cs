using System.Globalization;
using Grpc.Core;
using Grpc.Net.Client;
using ReadHistory.Api.V1;
using ReadHistory.Server.IntegrationTests.Hosting;
using ReadHistory.TestSupport;
using ReadHistory.TestSupport.Server;
using Xunit;
using ReadHistoryClient = ReadHistory.Api.V1.ReadHistory.ReadHistoryClient;

namespace ReadHistory.Server.IntegrationTests.Proxy;

/// <summary>
/// The proxy's bound of calls in flight per replica (ReadHistory:Proxy:ReplicaInFlight): past it a call is refused at
/// the proxy, as the node would refuse it, without being sent; the replica keeps its traffic.
/// </summary>
[Collection(MariaDbFixture.Collection)]
public sealed class ReplicaInFlightTests(MariaDbFixture mariaDb)
{
    // Rule 20 of the fake nodes: an answer.
    private const ulong User = 20;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Checks_past_a_replicas_bound_are_refused_at_the_proxy_with_retry_after_and_the_replica_stays_routable(bool multiplexed)
    {
        await using var node = await FakeCacheNode.StartAsync(replica: 0);
        await using var proxy = await StartProxyAsync(node, multiplexed);
        using var channel = GrpcChannel.ForAddress(proxy.Grpc);
        var client = new ReadHistoryClient(channel);

        // Two checks hold the replica's two permits for 3 s; four more arrive meanwhile.
        node.CheckDelay = TimeSpan.FromSeconds(3);
        var before = node.CheckCalls;
        var calls = Enumerable.Range(0, 6).Select(n => OutcomeAsync(client, "s" + n.ToString(CultureInfo.InvariantCulture))).ToList();
        var outcomes = await Task.WhenAll(calls).DefaultTimeout();

        Assert.Equal(2, outcomes.Count(static o => o.Status == StatusCode.OK));
        var refused = outcomes.Where(static o => o.Status == StatusCode.ResourceExhausted).ToList();
        Assert.Equal(4, refused.Count);
        Assert.All(refused, static o =>
        {
            Assert.Contains("ReadHistory:Proxy:ReplicaInFlight:Checks", o.Detail, StringComparison.Ordinal);
            Assert.Contains("limit of 2", o.Detail, StringComparison.Ordinal);
            Assert.NotNull(o.RetryAfterMs);
        });
        Assert.Equal(2, node.CheckCalls - before); // the refused ones were never sent

        // The refusals are the proxy's, not the replica's failures: it is still routable, and its permits came back.
        node.CheckDelay = TimeSpan.Zero;
        var metrics = await proxy.MetricsAsync();
        var address = node.Address.ToString().TrimEnd('/');
        Assert.Contains("readhistory_proxy_replica_refused_total{pool=\"default\",class=\"checks\"} 4", metrics, StringComparison.Ordinal);
        Assert.Contains($"readhistory_proxy_replica_healthy{{pool=\"default\",replica=\"{address}\",slot=\"0\"}} 1", metrics, StringComparison.Ordinal);
        for (var n = 0; n < 4; n++)
        {
            Assert.Equal(StatusCode.OK, (await OutcomeAsync(client, "after" + n.ToString(CultureInfo.InvariantCulture))).Status);
        }
    }

    private static async Task<(StatusCode Status, string Detail, string? RetryAfterMs)> OutcomeAsync(ReadHistoryClient client, string session)
    {
        var request = new CheckRequest { UserId = User, ContentIds = { 3, 4 }, SessionId = session };
        try
        {
            var answer = await client.CheckAsync(request, deadline: DateTime.UtcNow.AddSeconds(20)).ResponseAsync;
            Assert.Equal(new byte[] { 0b01 }, answer.ReadBitmap.ToByteArray());
            return (StatusCode.OK, string.Empty, null);
        }
        catch (RpcException e)
        {
            return (e.StatusCode, e.Status.Detail, e.Trailers.GetValue("retry-after-ms"));
        }
    }

    private async Task<TestHost> StartProxyAsync(FakeCacheNode node, bool multiplexed)
    {
        var settings = TestHost.Settings("proxy", mariaDb.Server.ConnectionString(), "inflight" + Guid.NewGuid().ToString("N")[..8]);
        settings["ReadHistory:Proxy:ReplicaInFlight:Checks"] = "2";
        settings["ReadHistory:Proxy:StreamsPerNode"] = multiplexed ? "4" : "0";
        settings["ReadHistory:Topology:Pools:0:Name"] = "default";
        settings["ReadHistory:Topology:Pools:0:Tenants:0"] = string.Empty;
        settings["ReadHistory:Topology:Pools:0:Slots:0:Replicas:0"] = node.Address.ToString().TrimEnd('/');
        var proxy = await TestHost.StartReadyAsync(settings);
        await ProxyCluster.WaitAllHealthyAsync(proxy, 1);
        return proxy;
    }
}
