using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using ReadHistory.Api.Internal.V1;
using ReadHistory.Api.V1;
using ReadHistory.Server.IntegrationTests.Cdc;
using ReadHistory.TestSupport;
using Xunit;
using CacheNodeClient = ReadHistory.Api.Internal.V1.CacheNode.CacheNodeClient;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace ReadHistory.Server.IntegrationTests.Hosting;

/// <summary>A cache node without CDC heartbeats goes stale (and says so), stays ready for Kubernetes, and recovers.</summary>
[Collection(CdcServersFixture.Collection)]
public sealed class StalenessHostTests(CdcServersFixture servers)
{
    [Fact]
    public async Task A_node_goes_stale_when_the_cdc_stops_and_fresh_again_when_it_returns_staying_ready_throughout()
    {
        var prefix = "stl" + Guid.NewGuid().ToString("N")[..8];
        var connection = servers.MariaDb.ConnectionString();
        var redis = servers.Redis.Endpoint;
        var cdcSettings = TestHost.Settings("cdc", connection, prefix, redis);
        cdcSettings["ReadHistory:Cdc:HeartbeatInterval"] = "00:00:00.050";
        cdcSettings["ReadHistory:Cdc:LeaseTime"] = "00:00:02";
        cdcSettings["ReadHistory:Cdc:StandbyPollInterval"] = "00:00:00.100";
        var nodeSettings = TestHost.Settings("cache", connection, prefix, redis);
        nodeSettings["ReadHistory:Cache:MaxStaleness"] = "00:00:02";
        TestHost? cdc = await TestHost.StartReadyAsync(cdcSettings);
        await using var node = await TestHost.StartReadyAsync(nodeSettings);
        using var channel = GrpcChannel.ForAddress(node.Internal);
        var invoker = channel.CreateCallInvoker();
        var check = new CacheCheckRequest { Request = new CheckRequest { UserId = 42, ContentIds = { 1, 2 } } };

        try
        {
            await new CacheNodeClient(invoker).MarkReadAsync(new CacheMarkReadRequest { Request = new MarkReadRequest { UserId = 42, Items = { new ReadItem { ContentId = 1 } } } }, TestHost.Deadline()).ResponseAsync.DefaultTimeout();
            await Poll.UntilAsync(() => StatusAsync(invoker), static s => s == ServingStatus.Serving, "the node is fresh");
            var fresh = await Poll.UntilAsync(() => CheckAsync(invoker, check), static r => r.Source == AnswerSource.Memory, "a fresh answer from memory");
            var freshStaleness = await StalenessAsync(node);

            await cdc.DisposeAsync();
            cdc = null;
            await Poll.UntilAsync(() => StatusAsync(invoker), static s => s == ServingStatus.NotServing, "the node reports itself stale");
            var stale = await CheckAsync(invoker, check);
            var staleStaleness = await StalenessAsync(node);
            var whole = await new Health.HealthClient(invoker).CheckAsync(new HealthCheckRequest(), TestHost.Deadline()).ResponseAsync.DefaultTimeout();
            using var http = new HttpClient();
            var ready = (await http.GetAsync(new Uri(node.Http, "/readyz")).DefaultTimeout()).IsSuccessStatusCode;

            cdc = await TestHost.StartReadyAsync(cdcSettings);
            await Poll.UntilAsync(() => StatusAsync(invoker), static s => s == ServingStatus.Serving, "the node is fresh again");
            var again = await Poll.UntilAsync(() => CheckAsync(invoker, check), static r => r.Source == AnswerSource.Memory, "a fresh answer from memory again");

            Assert.Equal(new byte[] { 0b01 }, fresh.ReadBitmap.ToByteArray());
            Assert.InRange(freshStaleness, 0, 2);
            Assert.Equal(AnswerSource.MemoryStale, stale.Source);
            Assert.Equal(new byte[] { 0b01 }, stale.ReadBitmap.ToByteArray());
            Assert.True(staleStaleness > 2, $"staleness {staleStaleness}");
            Assert.Equal(ServingStatus.Serving, whole.Status);
            Assert.True(ready, "/readyz stays ready while stale");
            Assert.Equal(AnswerSource.Memory, again.Source);
        }
        finally
        {
            if (cdc is not null)
            {
                await cdc.DisposeAsync();
            }
        }
    }

    private static async Task<ServingStatus> StatusAsync(CallInvoker invoker) =>
        (await new Health.HealthClient(invoker).CheckAsync(new HealthCheckRequest { Service = CacheNode.Descriptor.FullName }, TestHost.Deadline()).ResponseAsync.DefaultTimeout()).Status;

    private static Task<CheckResponse> CheckAsync(CallInvoker invoker, CacheCheckRequest check) =>
        new CacheNodeClient(invoker).CheckAsync(check, TestHost.Deadline()).ResponseAsync.DefaultTimeout();

    private static async Task<double> StalenessAsync(TestHost host)
    {
        using var http = new HttpClient();
        var text = await http.GetStringAsync(new Uri(host.Http, "/metrics")).DefaultTimeout();
        var line = text.Split('\n').Single(static l => l.StartsWith("readhistory_coherence_staleness_seconds{", StringComparison.Ordinal));
        return double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }
}
