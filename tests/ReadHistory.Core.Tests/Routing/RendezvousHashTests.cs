using ReadHistory.Core.Routing;
using Xunit;

namespace ReadHistory.Core.Tests.Routing;

public sealed class RendezvousHashTests
{
    private static readonly ulong[] Replicas = [RendezvousHash.KeyOf("cache-0-0"), RendezvousHash.KeyOf("cache-0-1"), RendezvousHash.KeyOf("cache-0-2")];

    [Fact]
    public void Sessions_spread_evenly_over_replicas()
    {
        var counts = new int[Replicas.Length];
        for (var session = 0; session < 1_000_000; session++)
        {
            counts[RendezvousHash.Pick(Replicas, RendezvousHash.KeyOf("session-" + session))]++;
        }

        Assert.All(counts, c => Assert.InRange(c, 1_000_000 / 3.0 * 0.97, 1_000_000 / 3.0 * 1.03));
    }

    [Fact]
    public void Losing_a_replica_moves_only_its_own_sessions()
    {
        bool[] withoutFirst = [false, true, true];
        for (ulong session = 1; session <= 100_000; session++)
        {
            var before = RendezvousHash.Pick(Replicas, session);
            var after = RendezvousHash.Pick(Replicas, session, withoutFirst);
            if (before != 0)
            {
                Assert.Equal(before, after);
            }
            else
            {
                Assert.NotEqual(0, after);
            }
        }
    }

    [Fact]
    public void Rank_starts_with_the_pick_and_lists_every_replica_once()
    {
        Span<int> order = stackalloc int[Replicas.Length];
        for (ulong session = 1; session <= 1000; session++)
        {
            RendezvousHash.Rank(Replicas, session, order);
            Assert.Equal(RendezvousHash.Pick(Replicas, session), order[0]);
            Assert.Equal([0, 1, 2], order.ToArray().Order());
        }
    }

    [Fact]
    public void Failover_order_after_the_first_is_the_pick_among_the_rest()
    {
        Span<int> order = stackalloc int[Replicas.Length];
        for (ulong session = 1; session <= 1000; session++)
        {
            RendezvousHash.Rank(Replicas, session, order);
            var usable = new bool[Replicas.Length];
            Array.Fill(usable, true);
            usable[order[0]] = false;
            Assert.Equal(order[1], RendezvousHash.Pick(Replicas, session, usable));
        }
    }

    [Fact]
    public void No_usable_replica_gives_minus_one()
    {
        Assert.Equal(-1, RendezvousHash.Pick(Replicas, 7, [false, false, false]));
    }
}
