using Microsoft.Extensions.Logging.Abstractions;
using ReadHistory.Core.Routing;
using Grpc.Core;
using ReadHistory.Server.Topology;
using ReadHistory.Server.Proxy;
using Xunit;
using ReadHistory.TestSupport.Server;

namespace ReadHistory.Server.Tests.Proxy;

public sealed class RoutingTableTests
{
    [Fact]
    public void Users_spread_evenly_over_the_slots_and_sessions_over_the_replicas()
    {
        using var router = Router(Topology(("feed", [""], 8, 3)));
        var pool = router.Current.PoolFor("")!;
        var perSlot = new int[8];
        var perReplica = new int[3];
        const int Users = 1_000_000;
        for (var user = 1UL; user <= Users; user++)
        {
            perSlot[pool.SlotOf(user).Index]++;
            perReplica[pool.Slots[0].Next(Mix64.Finalize(user * 31), 0, usableOnly: true)]++;
        }

        Assert.All(perSlot, count => Assert.InRange(count, Users / 8 * 0.97, Users / 8 * 1.03));
        Assert.All(perReplica, count => Assert.InRange(count, Users / 3 * 0.97, Users / 3 * 1.03));
    }

    [Fact]
    public void Losing_a_replica_moves_only_the_sessions_it_served_and_they_spread_over_the_others()
    {
        using var router = Router(Topology(("feed", [""], 1, 4)));
        var slot = router.Current.PoolFor("")!.Slots[0];
        const int Sessions = 200_000;
        var before = new int[Sessions];
        for (var s = 0; s < Sessions; s++)
        {
            before[s] = slot.Next(RendezvousHash.KeyOf("session-" + s), 0, usableOnly: true);
        }

        slot.Replicas[2].SetProbeHealthy(false);
        var movedTo = new int[4];
        for (var s = 0; s < Sessions; s++)
        {
            var after = slot.Next(RendezvousHash.KeyOf("session-" + s), 0, usableOnly: true);
            if (before[s] != 2)
            {
                Assert.Equal(before[s], after);
            }
            else
            {
                movedTo[after]++;
            }
        }

        Assert.Equal(0, movedTo[2]);
        var moved = movedTo.Sum();
        Assert.InRange(moved, Sessions / 4 * 0.97, Sessions / 4 * 1.03);
        Assert.All(new[] { movedTo[0], movedTo[1], movedTo[3] }, count => Assert.InRange(count, moved / 3 * 0.95, moved / 3 * 1.05));
    }

    [Fact]
    public void Failover_order_is_the_hrw_ranking_of_the_session()
    {
        using var router = Router(Topology(("feed", [""], 1, 5)));
        var slot = router.Current.PoolFor("")!.Slots[0];
        var key = RendezvousHash.KeyOf("a-session");
        var ids = slot.Replicas.Select(r => r.Id).ToArray();
        var expected = new int[5];
        RendezvousHash.Rank(ids, key, expected);
        var tried = 0;
        var order = new List<int>();
        int next;
        while ((next = slot.Next(key, tried, usableOnly: true)) >= 0)
        {
            order.Add(next);
            tried |= 1 << next;
        }

        Assert.Equal(expected, order);
    }

    [Fact]
    public void Tenants_map_to_their_pools_the_default_tenant_to_the_default_pool_and_others_to_none()
    {
        using var router = Router(Topology(("default", [], 1, 1), ("feed", ["feed", "recs"], 2, 1), ("push", [], 1, 1)));
        var table = router.Current;
        Assert.Equal("default", table.PoolFor("")!.Name);
        Assert.Equal("feed", table.PoolFor("feed")!.Name);
        Assert.Equal("feed", table.PoolFor("recs")!.Name);
        Assert.Equal("push", table.PoolFor("push")!.Name);
        Assert.Null(table.PoolFor("ingest"));
    }

    [Fact]
    public void A_reload_reuses_the_channels_of_unchanged_replicas_and_a_bad_one_is_refused_keeping_the_old_table()
    {
        var topology = Topology(("feed", [""], 2, 2));
        using var router = Router(topology);
        var first = router.Current;
        var kept = first.Pools[0].Slots[1].Replicas[0];

        var changed = Topology(("feed", [""], 2, 2));
        changed.Pools[0].Slots[0].Replicas[1] = "http://127.0.0.1:9999";
        Assert.Empty(router.Apply(changed));
        Assert.NotSame(first, router.Current);
        Assert.Same(kept, router.Current.Pools[0].Slots[1].Replicas[0]);
        Assert.Equal("http://127.0.0.1:9999", router.Current.Pools[0].Slots[0].Replicas[1].Address);

        var current = router.Current;
        var bad = Topology(("feed", [""], 2, 2));
        bad.Pools[0].Slots[1].Replicas[0] = "not a uri";
        var problems = router.Apply(bad);
        Assert.Contains(problems, p => p.Contains("not a uri", StringComparison.Ordinal));
        Assert.Same(current, router.Current);
        Assert.Contains(router.Apply(new TopologyOptions()), p => p.Contains("at least one cache pool", StringComparison.Ordinal));
        Assert.Same(current, router.Current);
    }

    [Fact]
    public void A_tenant_over_its_call_rate_gets_resource_exhausted_with_a_retry_hint()
    {
        var options = ShippedDefaults.Proxy(static o => o.Tenants["feed"] = new TenantLimitOptions { CallsPerSecond = 1, Burst = 2, MaxIdsPerCall = 10 });
        using var limiter = new TenantLimiter(options, metrics: null);
        limiter.Admit(null, "feed", 10);
        limiter.Admit(null, "feed", 1);
        var refused = Assert.Throws<RpcException>(() => limiter.Admit(null, "feed", 1));
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.InRange(long.Parse(refused.Trailers.GetValue(TenantLimiter.RetryAfterTrailer)!, System.Globalization.CultureInfo.InvariantCulture), 1, 1000);
        Assert.Equal(StatusCode.InvalidArgument, Assert.Throws<RpcException>(() => limiter.Admit(null, "feed", 11)).StatusCode);
        limiter.Admit(null, "push", 10_000);
    }

    [Fact]
    public void Each_api_key_on_a_tenant_has_its_own_budget_and_anonymous_callers_share_the_tenants()
    {
        var options = ShippedDefaults.Proxy(static o => o.Tenants["feed"] = new TenantLimitOptions { CallsPerSecond = 0.05, Burst = 1 });
        using var limiter = new TenantLimiter(options, metrics: null);

        limiter.AdmitCall("ranker-a", "feed");
        var refused = Assert.Throws<RpcException>(() => limiter.AdmitCall("ranker-a", "feed"));
        limiter.AdmitCall("ranker-b", "feed");
        limiter.AdmitCall(null, "feed");
        var anonymous = Assert.Throws<RpcException>(() => limiter.AdmitCall(null, "feed"));

        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Equal("API key 'ranker-a' is over its limit of calls per second on tenant 'feed'; retry after", refused.Status.Detail[..86]);
        Assert.Equal(StatusCode.ResourceExhausted, anonymous.StatusCode);
        Assert.StartsWith("tenant 'feed' is over its limit", anonymous.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_keys_own_rate_on_a_tenant_replaces_the_tenants_for_that_key_only()
    {
        var options = ShippedDefaults.Proxy(static o => o.Tenants["feed"] = new TenantLimitOptions
        {
            CallsPerSecond = 0.05,
            Burst = 1,
            Keys = { ["batch-job"] = new KeyLimitOptions { Burst = 3 } },
        });
        using var limiter = new TenantLimiter(options, metrics: null);

        for (var i = 0; i < 3; i++)
        {
            limiter.AdmitCall("batch-job", "feed");
        }

        limiter.AdmitCall("ranker", "feed");

        Assert.NotNull(limiter.Refusal("batch-job", "feed"));
        Assert.NotNull(limiter.Refusal("ranker", "feed"));
    }

    internal static TopologyOptions Topology(params (string Name, string[] Tenants, int Slots, int Replicas)[] pools)
    {
        var topology = new TopologyOptions();
        var port = 20000;
        foreach (var (name, tenants, slots, replicas) in pools)
        {
            var pool = new PoolOptions { Name = name, Tenants = [.. tenants] };
            for (var s = 0; s < slots; s++)
            {
                var slot = new SlotOptions();
                for (var r = 0; r < replicas; r++)
                {
                    slot.Replicas.Add($"http://127.0.0.1:{port++}");
                }

                pool.Slots.Add(slot);
            }

            topology.Pools.Add(pool);
        }

        return topology;
    }

    private static ProxyRouter Router(TopologyOptions topology) =>
        new(topology, ShippedDefaults.Proxy(), TimeProvider.System, NullLogger.Instance);
}
