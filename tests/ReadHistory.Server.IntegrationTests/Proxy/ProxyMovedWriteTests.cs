using Grpc.Net.Client;
using ReadHistory.Api.V1;
using ReadHistory.Server.IntegrationTests.Hosting;
using ReadHistory.TestSupport;
using Xunit;
using ReadHistoryClient = ReadHistory.Api.V1.ReadHistory.ReadHistoryClient;

namespace ReadHistory.Server.IntegrationTests.Proxy;

/// <summary>
/// A MarkRead the proxy moves off the session's own replica (that one failed the attempt) carries until_peers_applied,
/// so the node answers only once the session's replica has the write too; a write answered by the session's own
/// replica does not. Both the forwarding (bytes) and the decoding proxy.
/// </summary>
[Collection(MariaDbFixture.Collection)]
public sealed class ProxyMovedWriteTests(MariaDbFixture mariaDb)
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_write_moved_to_another_replica_asks_it_to_wait_for_its_peers_and_one_that_was_not_does_not(bool forward)
    {
        await using var first = await FakeCacheNode.StartAsync(replica: 0);
        await using var second = await FakeCacheNode.StartAsync(replica: 1);
        var settings = TestHost.Settings("proxy", mariaDb.Server.ConnectionString(), "mov" + Guid.NewGuid().ToString("N")[..8]);
        settings["ReadHistory:Proxy:HealthCheckInterval"] = "00:00:00.100";
        settings["ReadHistory:Proxy:MinimumThroughput"] = "1000000"; // no breaker: every call walks from the session's own replica
        settings["ReadHistory:Proxy:ForwardBytes"] = forward ? "true" : "false";
        settings["ReadHistory:Topology:Pools:0:Name"] = "default";
        settings["ReadHistory:Topology:Pools:0:Slots:0:Replicas:0"] = first.Address.ToString().TrimEnd('/');
        settings["ReadHistory:Topology:Pools:0:Slots:0:Replicas:1"] = second.Address.ToString().TrimEnd('/');
        await using var proxy = await TestHost.StartReadyAsync(settings);
        await ProxyCluster.WaitAllHealthyAsync(proxy, 2);
        using var channel = GrpcChannel.ForAddress(proxy.Grpc);
        var client = new ReadHistoryClient(channel);

        // User 17 (rule FailsOnFirstReplica) is refused by replica 0 with UNAVAILABLE, answered by replica 1; user 20 by both.
        for (var s = 0; s < 40; s++)
        {
            foreach (var user in new ulong[] { FakeCacheNode.FailsOnFirstReplica, 20 })
            {
                var request = new MarkReadRequest { UserId = user, SessionId = $"s{s}-u{user}", Items = { new ReadItem { ContentId = 3 } } };
                await client.MarkReadAsync(request, TestHost.Deadline()).ResponseAsync.DefaultTimeout();
            }
        }

        var moved = 0;
        foreach (var (session, untilPeersApplied, failed) in first.MarkReads.Concat(second.MarkReads))
        {
            var refusedByFirst = first.MarkReads.Any(r => r.Session == session && r.Failed);
            Assert.Equal(!failed && refusedByFirst && second.MarkReads.Contains((session, untilPeersApplied, false)), untilPeersApplied);
            moved += untilPeersApplied ? 1 : 0;
        }

        // Sessions whose first choice was replica 0 (about half of the 40 for user 17) were moved, the others not.
        Assert.InRange(moved, 5, 35);
        Assert.Contains(second.MarkReads, r => r.Session.EndsWith("-u17", StringComparison.Ordinal) && !r.UntilPeersApplied);
        Assert.DoesNotContain(first.MarkReads.Concat(second.MarkReads), r => r.Session.EndsWith("-u20", StringComparison.Ordinal) && r.UntilPeersApplied);
    }
}
