using Microsoft.Extensions.Logging.Abstractions;
using ReadHistory.Api.V1;
using ReadHistory.Core.Routing;
using ReadHistory.Server.Proxy;
using ReadHistory.Server.Topology;
using ReadHistory.TestSupport;
using ReadHistory.TestSupport.Server;
using Xunit;

namespace ReadHistory.Server.Tests.Proxy;

/// <summary>Routing around a stale replica: fresh replicas first (HRW by session), stale ones next, down ones last.</summary>
public sealed class StaleReplicaRoutingTests
{
    private const int Sessions = 20_000;

    [Fact]
    public void A_stale_replica_loses_its_sessions_to_fresh_ones_and_no_other_session_moves()
    {
        using var router = Router(3);
        var slot = router.Current.PoolFor("")!.Slots[0];
        var before = Choices(slot);

        slot.Replicas[1].SetStale(true);
        var after = Choices(slot);

        for (var s = 0; s < Sessions; s++)
        {
            Assert.Equal(before[s] == 1 ? slot.Next(Key(s), 1 << 1, usableOnly: true) : before[s], after[s]);
        }

        Assert.DoesNotContain(1, after);
    }

    [Fact]
    public void When_every_replica_is_stale_no_session_moves()
    {
        using var router = Router(3);
        var slot = router.Current.PoolFor("")!.Slots[0];
        var before = Choices(slot);

        foreach (var replica in slot.Replicas)
        {
            replica.SetStale(true);
        }

        Assert.Equal(before, Choices(slot));
    }

    [Fact]
    public void The_try_order_is_fresh_replicas_by_hrw_then_stale_ones_by_hrw_and_never_a_down_one()
    {
        using var router = Router(4);
        var slot = router.Current.PoolFor("")!.Slots[0];
        var key = RendezvousHash.KeyOf("a-session");
        var ranking = new int[4];
        RendezvousHash.Rank(slot.Replicas.Select(r => r.Id).ToArray(), key, ranking);
        // The session's best and third replicas are stale, its second is down.
        slot.Replicas[ranking[0]].SetStale(true);
        slot.Replicas[ranking[2]].SetStale(true);
        slot.Replicas[ranking[1]].SetProbeHealthy(false);

        var order = new List<int>();
        var tried = 0;
        int next;
        while ((next = slot.NextRoutable(key, tried)) >= 0)
        {
            order.Add(next);
            tried |= 1 << next;
        }

        Assert.Equal([ranking[3], ranking[0], ranking[2]], order);
    }

    [Fact]
    public void An_answer_from_stale_filters_marks_the_replica_stale_and_one_from_fresh_filters_marks_it_fresh()
    {
        using var endpoint = new ReplicaEndpoint($"http://127.0.0.1:{FreePort.Next()}", ShippedDefaults.Proxy(), TimeProvider.System);

        ProxyBackend.ObserveFreshness(endpoint, new CheckResponse { Source = AnswerSource.MemoryStale }, NullLogger.Instance);
        var afterStale = endpoint.IsStale;
        ProxyBackend.ObserveFreshness(endpoint, new CheckResponse { Source = AnswerSource.Database }, NullLogger.Instance);
        var afterDatabase = endpoint.IsStale;
        ProxyBackend.ObserveFreshness(endpoint, new BatchCheckResponse { Results = { new UserCheckResult { StatusCode = 14 }, new UserCheckResult { Response = new CheckResponse { Source = AnswerSource.Memory } } } }, NullLogger.Instance);

        Assert.True(afterStale);
        Assert.True(afterDatabase);
        Assert.False(endpoint.IsStale);
        Assert.True(endpoint.IsUsable);
    }

    private static ulong Key(int session) => RendezvousHash.KeyOf("session-" + session);

    private static int[] Choices(SlotRoute slot)
    {
        var choices = new int[Sessions];
        for (var s = 0; s < Sessions; s++)
        {
            choices[s] = slot.NextRoutable(Key(s), 0);
        }

        return choices;
    }

    private static ProxyRouter Router(int replicas)
    {
        var slot = new SlotOptions();
        var port = 41000;
        for (var r = 0; r < replicas; r++)
        {
            slot.Replicas.Add($"http://127.0.0.1:{port++}");
        }

        var topology = new TopologyOptions();
        topology.Pools.Add(new PoolOptions { Name = "feed", Tenants = [""], Slots = [slot] });
        return new ProxyRouter(topology, ShippedDefaults.Proxy(), TimeProvider.System, NullLogger.Instance);
    }
}
