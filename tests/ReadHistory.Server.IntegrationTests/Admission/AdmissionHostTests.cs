using Grpc.Core;
using Grpc.Net.Client;
using ReadHistory.Api.V1;
using ReadHistory.Server.IntegrationTests.Hosting;
using ReadHistory.Server.IntegrationTests.Proxy;
using ReadHistory.TestSupport;
using Xunit;
using ReadHistoryClient = ReadHistory.Api.V1.ReadHistory.ReadHistoryClient;

namespace ReadHistory.Server.IntegrationTests.Admission;

/// <summary>Admission control on real hosts: checks are shed, writes keep their share, proxies keep their replicas.</summary>
[Collection(MariaDbFixture.Collection)]
public sealed class AdmissionHostTests(MariaDbFixture mariaDb)
{
    private const int FloodLoops = 32;
    private const int Writes = 20;

    [Fact]
    public async Task A_flood_of_checks_is_shed_with_retry_after_ms_and_never_delays_a_write_past_its_deadline()
    {
        var settings = TestHost.Settings("all", mariaDb.Server.ConnectionString(), "adm" + Guid.NewGuid().ToString("N")[..8]);
        settings["ReadHistory:Admission:Node:Checks"] = "2";
        await using var host = await TestHost.StartReadyAsync(settings);
        using var channel = GrpcChannel.ForAddress(host.Grpc);
        var invoker = channel.CreateCallInvoker();
        var flood = CheckFlood.Start(invoker, FloodLoops);
        await Poll.UntilAsync(() => Task.FromResult(flood.Refused > 0), "the flood to be shed");

        // Each write has 2 s, far more than a commit takes, far less than a check queued behind the flood would wait.
        var client = new ReadHistoryClient(invoker);
        for (var i = 0; i < Writes; i++)
        {
            var written = await client.MarkReadAsync(
                new MarkReadRequest { UserId = 7, Items = { new ReadItem { ContentId = (ulong)(i + 1) } } },
                new CallOptions(deadline: DateTime.UtcNow.AddSeconds(2))).ResponseAsync.DefaultTimeout();
            Assert.Equal(1u, written.Written);
        }

        var refusedDuringWrites = flood.Refused;
        await flood.StopAsync();

        Assert.True(refusedDuringWrites > 0);
        Assert.Equal(0, flood.RefusedWithoutHint);
        Assert.True(flood.OtherFailures == 0, flood.FirstOtherFailure);
        Assert.Contains("checks", flood.FirstRefusal, StringComparison.Ordinal);
        Assert.Contains("ReadHistory:Admission:Node:Checks", flood.FirstRefusal, StringComparison.Ordinal);
        Assert.True(flood.Answered > 0);
        var metrics = await ScrapeAsync(host);
        Assert.Contains("readhistory_admission_limit{class=\"checks\"} 2", metrics);
        Assert.Contains(metrics, static l => l.StartsWith("readhistory_admission_refused_total{class=\"checks\"} ", StringComparison.Ordinal) && !l.EndsWith(" 0", StringComparison.Ordinal));
        Assert.Contains("readhistory_admission_refused_total{class=\"writes\"} 0", metrics);
    }

    [Fact]
    public async Task A_proxy_relays_a_node_s_refusal_with_its_hint_and_keeps_the_replica()
    {
        await using var cluster = await ProxyCluster.StartAsync(
            mariaDb.Server.ConnectionString(),
            [("default", [""], 1, 1)],
            proxySettings: new() { ["ReadHistory:Admission:Proxy:Checks"] = "1000" },
            nodeSettings: new() { ["ReadHistory:Admission:Node:Checks"] = "1" });
        var flood = CheckFlood.Start(cluster.Invoker, FloodLoops);
        await Poll.UntilAsync(() => Task.FromResult(flood.Refused > flood.Answered + 50), "the node to refuse most of the flood");
        await flood.StopAsync();

        // Far more refusals than answers: had they counted against the replica, its breaker (half of 5 calls) would be open.
        Assert.True(flood.OtherFailures == 0, flood.FirstOtherFailure);
        Assert.Equal(0, flood.RefusedWithoutHint);
        Assert.Contains("node's limit", flood.FirstRefusal, StringComparison.Ordinal);
        var metrics = await ScrapeAsync(cluster.Proxy);
        Assert.Contains(metrics, static l => l.StartsWith("readhistory_proxy_replica_healthy{", StringComparison.Ordinal) && l.EndsWith(" 1", StringComparison.Ordinal));
        Assert.Contains("readhistory_proxy_failovers_total{pool=\"default\"} 0", metrics);
        Assert.Contains("readhistory_admission_refused_total{class=\"checks\"} 0", metrics);
        var check = await new ReadHistoryClient(cluster.Invoker).CheckAsync(new CheckRequest { UserId = 5, ContentIds = { 1 } }, ProxyCluster.Within(10_000)).ResponseAsync.DefaultTimeout();
        Assert.Equal(new byte[] { 0 }, check.ReadBitmap.ToByteArray());
    }

    private static async Task<string[]> ScrapeAsync(TestHost host)
    {
        using var http = new HttpClient();
        return (await http.GetStringAsync(new Uri(host.Http, "/metrics")).DefaultTimeout()).Split('\n');
    }
}
