using Grpc.Core;
using Grpc.Net.Client;
using ReadHistory.Api.Internal.V1;
using ReadHistory.Api.V1;
using ReadHistory.Core.Routing;
using ReadHistory.Server.IntegrationTests.Hosting;
using ReadHistory.TestSupport;
using Xunit;
using CacheNodeClient = ReadHistory.Api.Internal.V1.CacheNode.CacheNodeClient;
using ReadHistoryClient = ReadHistory.Api.V1.ReadHistory.ReadHistoryClient;

namespace ReadHistory.Server.IntegrationTests.Proxy;

/// <summary>Ingest through the proxy: one internal stream per slot touched, counts summed, failover by resending a slot's messages.</summary>
[Collection(MariaDbFixture.Collection)]
public sealed class ProxyIngestTests(MariaDbFixture mariaDb)
{
    private const int Users = 12;
    private const int PerUser = 40;

    // A quarter of it (4 rows) per internal stream: a stream of this test is cut into many.
    private static readonly Dictionary<string, string?> SmallBound = new() { ["ReadHistory:Limits:MaxIngestRowsInFlight"] = "16" };

    [Fact]
    public async Task A_stream_over_several_slots_is_written_on_each_slots_node_and_the_counts_are_summed()
    {
        await using var cluster = await ProxyCluster.StartAsync(mariaDb.Server.ConnectionString(), [("default", [""], 3, 1)], SmallBound);
        var client = new ReadHistoryClient(cluster.Invoker);
        for (ulong user = 1; user <= Users; user++)
        {
            await WaitHeldAsync(client, user);
        }

        using var call = client.Ingest(new CallOptions(deadline: DateTime.UtcNow.AddSeconds(60)));
        for (var i = 1; i <= PerUser; i++)
        {
            for (ulong user = 1; user <= Users; user++)
            {
                await call.RequestStream.WriteAsync(Message(user, (ulong)i)).DefaultTimeout();
            }

            if (i % 10 == 0)
            {
                await call.RequestStream.WriteAsync(new IngestRequest()).DefaultTimeout();
            }
        }

        await call.RequestStream.CompleteAsync().DefaultTimeout();
        var response = await call.ResponseAsync.DefaultTimeout();

        Assert.Equal((ulong)(Users * PerUser), response.Accepted);
        Assert.Equal(0ul, response.Rejected);
        Assert.Equal("batch: required", response.FirstError);
        var ids = Enumerable.Range(1, PerUser).Select(i => (ulong)i).ToArray();
        Assert.Equal(3, Enumerable.Range(1, Users).Select(u => JumpConsistentHash.Bucket((ulong)u, 3)).Distinct().Count());
        for (ulong user = 1; user <= Users; user++)
        {
            // Straight to the node of the user's slot: its filter holds every row, without waiting.
            var slot = JumpConsistentHash.Bucket(user, 3);
            using var channel = cluster.Node("default", slot, 0).InternalChannel();
            var node = new CacheNodeClient(channel.CreateCallInvoker());
            var held = await node.CheckAsync(new CacheCheckRequest { Request = new CheckRequest { UserId = user, ContentIds = { ids } } }, TestHost.Deadline()).ResponseAsync.DefaultTimeout();
            Assert.Equal(AnswerSource.Memory, held.Source);
            Assert.Equal(0u, held.UnreadCount);
            var stored = await node.CheckAsync(new CacheCheckRequest { Request = new CheckRequest { UserId = user, ContentIds = { ids } }, Passthrough = true }, TestHost.Deadline()).ResponseAsync.DefaultTimeout();
            Assert.Equal(0u, stored.UnreadCount);
        }
    }

    [Fact]
    public async Task A_replica_lost_in_the_middle_of_a_stream_has_its_messages_resent_to_the_next()
    {
        await using var cluster = await ProxyCluster.StartAsync(mariaDb.Server.ConnectionString(), [("default", [""], 1, 2)], SmallBound);
        var client = new ReadHistoryClient(cluster.Invoker);
        const ulong user = 5;
        // The user's Check goes where its writes go (same rendezvous key): that replica is the one to kill.
        await client.CheckAsync(new CheckRequest { UserId = user, ContentIds = { 1 } }, TestHost.Deadline()).ResponseAsync.DefaultTimeout();
        var home = await ProxyCluster.LookupsAsync(cluster.Node("default", 0, 0)) > 0 ? 0 : 1;
        using var call = client.Ingest(new CallOptions(deadline: DateTime.UtcNow.AddSeconds(60)));
        for (ulong id = 1; id <= 100; id++)
        {
            await call.RequestStream.WriteAsync(Message(user, id)).DefaultTimeout();
        }

        // The replica the user routes to dies while the stream still has messages to send.
        await Poll.UntilAsync(async () => (await PassthroughCheckAsync(cluster, home, user, 1)).UnreadCount == 0, "the first messages to be written");
        await cluster.KillAsync("default", 0, home);
        for (ulong id = 101; id <= 200; id++)
        {
            await call.RequestStream.WriteAsync(Message(user, id)).DefaultTimeout();
        }

        await call.RequestStream.CompleteAsync().DefaultTimeout();
        var response = await call.ResponseAsync.DefaultTimeout();

        Assert.Equal(200ul, response.Accepted);
        var stored = await PassthroughCheckAsync(cluster, 1 - home, user, [.. Enumerable.Range(1, 200).Select(i => (ulong)i)]);
        Assert.Equal(0u, stored.UnreadCount);
    }

    private static IngestRequest Message(ulong user, ulong id) =>
        new() { Batch = new MarkReadRequest { UserId = user, Items = { new ReadItem { ContentId = id } } } };

    // Straight to the database through one node (passthrough: no filter involved).
    private static async Task<CheckResponse> PassthroughCheckAsync(ProxyCluster cluster, int replica, ulong user, params ulong[] ids)
    {
        using var channel = cluster.Node("default", 0, replica).InternalChannel();
        var request = new CacheCheckRequest { Request = new CheckRequest { UserId = user, ContentIds = { ids } }, Passthrough = true };
        return await new CacheNodeClient(channel.CreateCallInvoker()).CheckAsync(request, TestHost.Deadline()).ResponseAsync.DefaultTimeout();
    }

    private static Task<CheckResponse> WaitHeldAsync(ReadHistoryClient client, ulong user) =>
        Poll.UntilAsync(
            () => client.CheckAsync(new CheckRequest { UserId = user, ContentIds = { 1_000_000 } }, TestHost.Deadline()).ResponseAsync,
            static r => r.Source == AnswerSource.Memory,
            "the user's filter to be held");
}
