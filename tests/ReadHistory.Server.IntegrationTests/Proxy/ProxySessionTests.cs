using ReadHistory.Api.Internal.V1;
using ReadHistory.Api.V1;
using ReadHistory.Core.Routing;
using Grpc.Core;
using Grpc.Net.Client;
using ReadHistory.Server.IntegrationTests.Hosting;
using ReadHistory.TestSupport;
using Xunit;
using ReadHistoryClient = ReadHistory.Api.V1.ReadHistory.ReadHistoryClient;

namespace ReadHistory.Server.IntegrationTests.Proxy;

[Collection(MariaDbFixture.Collection)]
public sealed class ProxySessionTests(MariaDbFixture mariaDb)
{
    [Fact]
    public async Task A_session_reads_its_writes_from_the_database_before_the_user_is_cached_and_from_memory_after()
    {
        await using var cluster = await ProxyCluster.StartAsync(mariaDb.Server.ConnectionString(), [("default", [""], 2, 2)]);
        const ulong User = 77;
        const string Session = "reader-1";
        await Mark(cluster.Invoker, User, Session, 10);
        var first = await Check(cluster.Invoker, User, Session, 10, 11);
        Assert.Equal(AnswerSource.Database, first.Source);
        Assert.Equal(new byte[] { 0b01 }, first.ReadBitmap.ToByteArray());

        // The rebuild runs in the background and a loaded machine may take a while.
        var cached = await Poll.UntilAsync(() => Check(cluster.Invoker, User, Session, 10, 11), static r => r.Source == AnswerSource.Memory, "the session's replica to answer from memory");

        Assert.Equal(AnswerSource.Memory, cached.Source);

        // Write-through on the session's replica: the next read of the session sees it from memory.
        await Mark(cluster.Invoker, User, Session, 11);
        var after = await Check(cluster.Invoker, User, Session, 10, 11);
        Assert.Equal(AnswerSource.Memory, after.Source);
        Assert.Equal(new byte[] { 0b11 }, after.ReadBitmap.ToByteArray());

        // The session stuck to one replica: the other replica of the slot never saw the user (no change stream here).
        var slot = JumpConsistentHash.Bucket(User, 2);
        var lookups = new[] { await ProxyCluster.LookupsAsync(cluster.Node("default", slot, 0)), await ProxyCluster.LookupsAsync(cluster.Node("default", slot, 1)) };
        Assert.Contains(0UL, lookups);
        Assert.Contains(lookups, l => l >= 3);
    }

    [Fact]
    public async Task BatchCheck_is_split_by_slot_and_merged_in_request_order_with_a_status_per_user()
    {
        await using var cluster = await ProxyCluster.StartAsync(mariaDb.Server.ConnectionString(), [("default", [""], 2, 2)]);
        var batch = new BatchCheckRequest();
        for (var user = 1UL; user <= 12; user++)
        {
            await Mark(cluster.Invoker, user, string.Empty, 100 + user);
            batch.Requests.Add(new CheckRequest { UserId = user, ContentIds = { 100 + user, 1 } });
        }

        batch.Requests.Insert(5, new CheckRequest { UserId = 0, ContentIds = { 1 } });
        var results = (await new ReadHistoryClient(cluster.Invoker).BatchCheckAsync(batch, ProxyCluster.Within(5000)).ResponseAsync.DefaultTimeout()).Results;
        Assert.Equal(13, results.Count);
        Assert.Equal((int)StatusCode.InvalidArgument, results[5].StatusCode);
        Assert.Contains("requests[5].user_id", results[5].StatusMessage, StringComparison.Ordinal);
        for (var i = 0; i < 13; i++)
        {
            if (i != 5)
            {
                Assert.Equal(0, results[i].StatusCode);
                Assert.Equal(new byte[] { 0b01 }, results[i].Response.ReadBitmap.ToByteArray());
            }
        }

        // Both slots took part.
        var perSlot = new ulong[2];
        foreach (var (pool, slot, replica) in cluster.Places)
        {
            perSlot[slot] += await ProxyCluster.LookupsAsync(cluster.Node(pool, slot, replica));
        }

        Assert.All(perSlot, lookups => Assert.True(lookups > 0));
    }

    [Fact]
    public async Task A_tenant_over_its_rate_is_refused_with_resource_exhausted_and_retry_after_ms()
    {
        var limits = new Dictionary<string, string?>
        {
            // One token per 20 s: the three calls below are refused on the third even when a loaded machine spreads them
            // over seconds (at 1 per second, a token came back between them and the third call passed).
            ["ReadHistory:Proxy:Tenants:feed:CallsPerSecond"] = "0.05",
            ["ReadHistory:Proxy:Tenants:feed:Burst"] = "2",
        };
        await using var cluster = await ProxyCluster.StartAsync(mariaDb.Server.ConnectionString(), [("feed", ["feed"], 1, 1)], limits);
        var check = new CheckRequest { UserId = 3, ContentIds = { 1 }, Tenant = "feed" };
        await new ReadHistoryClient(cluster.Invoker).CheckAsync(check, ProxyCluster.Within(10_000)).ResponseAsync.DefaultTimeout();
        await new ReadHistoryClient(cluster.Invoker).CheckAsync(check, ProxyCluster.Within(10_000)).ResponseAsync.DefaultTimeout();
        var refused = await Assert.ThrowsAsync<RpcException>(() => new ReadHistoryClient(cluster.Invoker).CheckAsync(check, ProxyCluster.Within(10_000)).ResponseAsync).DefaultTimeout();
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.NotNull(refused.Trailers.GetValue("retry-after-ms"));
    }

    private static Task<MarkReadResponse> Mark(CallInvoker invoker, ulong user, string session, ulong id) =>
        new ReadHistoryClient(invoker).MarkReadAsync(new MarkReadRequest { UserId = user, SessionId = session, Items = { new ReadItem { ContentId = id } } }, ProxyCluster.Within(5000)).ResponseAsync.DefaultTimeout();

    private static Task<CheckResponse> Check(CallInvoker invoker, ulong user, string session, params ulong[] ids) =>
        new ReadHistoryClient(invoker).CheckAsync(new CheckRequest { UserId = user, SessionId = session, ContentIds = { ids } }, ProxyCluster.Within(5000)).ResponseAsync.DefaultTimeout();
}
