using ReadHistory.Api.V1;
using ReadHistory.Core.Routing;
using Grpc.Core;
using ReadHistory.TestSupport;
using Xunit;
using ReadHistoryClient = ReadHistory.Api.V1.ReadHistory.ReadHistoryClient;

namespace ReadHistory.Server.IntegrationTests.Proxy;

[Collection(MariaDbFixture.Collection)]
public sealed class ProxyFailoverTests(MariaDbFixture mariaDb)
{
    private static readonly (string, string[], int, int)[] TwoByTwo = [("default", [""], 2, 2)];

    [Fact]
    public async Task Killing_replicas_under_load_fails_no_read_and_a_dead_slot_is_answered_in_passthrough()
    {
        await using var cluster = await ProxyCluster.StartAsync(mariaDb.Server.ConnectionString(), TwoByTwo);
        await ReadLoad.SeedAsync(cluster.Invoker);
        var load = new ReadLoad();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(90)); // a bound only: the test stops the load itself

        // One replica of slot 0 dies while reads run: its sessions fail over to the other replica.
        var running = load.RunAsync(cluster.Invoker, workers: 4, maxCalls: 3000, deadlineMs: 5000, stop.Token);
        await WaitForReadsAsync(load, 200);
        await cluster.KillAsync("default", 0, 1);
        var afterFirst = load.Reads;
        await WaitForReadsAsync(load, afterFirst + 300);

        // The slot's last replica dies too: a node of slot 1 answers slot 0's users in passthrough.
        await cluster.KillAsync("default", 0, 0);
        var afterSecond = load.Reads;
        await WaitForReadsAsync(load, afterSecond + 300);
        await stop.CancelAsync();
        await running.DefaultTimeout();

        Assert.Empty(load.Failures);
        var user = Enumerable.Range(1, ReadLoad.Users).Select(u => (ulong)u).First(u => JumpConsistentHash.Bucket(u, 2) == 0);
        var answer = await new ReadHistoryClient(cluster.Invoker).CheckAsync(new CheckRequest { UserId = user, ContentIds = { 7, 1000 + user } }, ProxyCluster.Within(10_000)).ResponseAsync.DefaultTimeout();
        Assert.Equal(AnswerSource.Passthrough, answer.Source);
        Assert.Equal(new byte[] { 0b10 }, answer.ReadBitmap.ToByteArray());

        // Writes of the dead slot are taken in passthrough as well, and read back.
        await new ReadHistoryClient(cluster.Invoker).MarkReadAsync(new MarkReadRequest { UserId = user, Items = { new ReadItem { ContentId = 7 } } }, ProxyCluster.Within(10_000)).ResponseAsync.DefaultTimeout();
        answer = await new ReadHistoryClient(cluster.Invoker).CheckAsync(new CheckRequest { UserId = user, ContentIds = { 7, 1000 + user } }, ProxyCluster.Within(10_000)).ResponseAsync.DefaultTimeout();
        Assert.Equal(new byte[] { 0b11 }, answer.ReadBitmap.ToByteArray());

        var metrics = await new HttpClient().GetStringAsync(new Uri(cluster.Proxy.Http, "/metrics")).DefaultTimeout();
        Assert.Contains("readhistory_proxy_passthrough_total{pool=\"default\"}", metrics, StringComparison.Ordinal);
        Assert.Contains("readhistory_proxy_replica_healthy{", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_pool_with_every_node_down_answers_unavailable_naming_the_pool_while_other_pools_serve()
    {
        (string, string[], int, int)[] pools = [("feed", ["feed", ""], 1, 1), ("push", [], 1, 1)];
        await using var cluster = await ProxyCluster.StartAsync(mariaDb.Server.ConnectionString(), pools);
        var feedBefore = await ProxyCluster.LookupsAsync(cluster.Node("feed", 0, 0));
        var pushBefore = await ProxyCluster.LookupsAsync(cluster.Node("push", 0, 0));

        await new ReadHistoryClient(cluster.Invoker).CheckAsync(new CheckRequest { UserId = 5, ContentIds = { 1 }, Tenant = "push" }, ProxyCluster.Within(10_000)).ResponseAsync.DefaultTimeout();
        await new ReadHistoryClient(cluster.Invoker).CheckAsync(new CheckRequest { UserId = 5, ContentIds = { 1 }, Tenant = "push" }, ProxyCluster.Within(10_000)).ResponseAsync.DefaultTimeout();
        await new ReadHistoryClient(cluster.Invoker).CheckAsync(new CheckRequest { UserId = 5, ContentIds = { 1 } }, ProxyCluster.Within(10_000)).ResponseAsync.DefaultTimeout();
        Assert.Equal(pushBefore + 2, await ProxyCluster.LookupsAsync(cluster.Node("push", 0, 0)));
        Assert.Equal(feedBefore + 1, await ProxyCluster.LookupsAsync(cluster.Node("feed", 0, 0)));

        var unknown = await Assert.ThrowsAsync<RpcException>(() => new ReadHistoryClient(cluster.Invoker).CheckAsync(new CheckRequest { UserId = 5, ContentIds = { 1 }, Tenant = "ingest" }, ProxyCluster.Within(10_000)).ResponseAsync).DefaultTimeout();
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("'ingest'", unknown.Status.Detail, StringComparison.Ordinal);

        await cluster.KillAsync("push", 0, 0);
        var down = await Assert.ThrowsAsync<RpcException>(() => new ReadHistoryClient(cluster.Invoker).CheckAsync(new CheckRequest { UserId = 5, ContentIds = { 1 }, Tenant = "push" }, ProxyCluster.Within(10_000)).ResponseAsync).DefaultTimeout();
        Assert.Equal(StatusCode.Unavailable, down.StatusCode);
        Assert.Contains("'push'", down.Status.Detail, StringComparison.Ordinal);

        // A BatchCheck over both pools: the dead pool's entries fail alone, in place.
        var batch = new BatchCheckRequest
        {
            Requests =
            {
                new CheckRequest { UserId = 6, ContentIds = { 1 }, Tenant = "feed" },
                new CheckRequest { UserId = 7, ContentIds = { 1 }, Tenant = "push" },
                new CheckRequest { UserId = 8, ContentIds = { 1 } },
            },
        };
        var results = (await new ReadHistoryClient(cluster.Invoker).BatchCheckAsync(batch, ProxyCluster.Within(10_000)).ResponseAsync.DefaultTimeout()).Results;
        Assert.Equal([0, (int)StatusCode.Unavailable, 0], results.Select(r => r.StatusCode));
        Assert.Contains("'push'", results[1].StatusMessage, StringComparison.Ordinal);
    }

    // Reads are slow on a loaded machine.
    private static Task WaitForReadsAsync(ReadLoad load, int reads) =>
        Poll.UntilAsync(() => load.Reads >= reads, $"the load to make {reads} reads");
}
