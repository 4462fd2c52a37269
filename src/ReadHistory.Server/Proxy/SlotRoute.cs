using ReadHistory.Core.Routing;

namespace ReadHistory.Server.Proxy;

/// <summary>One slot of a pool: its replicas, ranked per session by rendezvous hashing.</summary>
internal sealed class SlotRoute
{
    private readonly ulong[] _ids;

    /// <summary>Creates the slot over its replicas (at most 16, as the topology validation guarantees).</summary>
    public SlotRoute(PoolRoute pool, int index, ReplicaEndpoint[] replicas)
    {
        Pool = pool;
        Index = index;
        Replicas = replicas;
        _ids = Array.ConvertAll(replicas, static r => r.Id);
        Label = index.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The pool the slot belongs to.</summary>
    public PoolRoute Pool { get; }

    /// <summary>The slot number (JumpConsistentHash bucket).</summary>
    public int Index { get; }

    /// <summary>The slot number as a metric label.</summary>
    public string Label { get; }

    /// <summary>The replicas in configured order.</summary>
    public ReplicaEndpoint[] Replicas { get; }

    /// <summary>
    /// The best-ranked replica for <paramref name="key"/> (HRW) that is not in <paramref name="tried"/> (a bit per
    /// replica) and, when <paramref name="usableOnly"/>, is usable (and, when <paramref name="freshOnly"/>, not stale);
    /// -1 when none is left. Picking the best usable replica each time is HRW over the healthy set: losing a replica
    /// moves only the sessions it won, and so does a replica going stale while a fresh one is left.
    /// </summary>
    public int Next(ulong key, int tried, bool usableOnly, bool freshOnly = false)
    {
        var best = -1;
        var bestScore = 0UL;
        for (var i = 0; i < _ids.Length; i++)
        {
            if ((tried & (1 << i)) != 0 || (usableOnly && !Replicas[i].IsUsable) || (freshOnly && Replicas[i].IsStale))
            {
                continue;
            }

            var score = RendezvousHash.Score(_ids[i], key);
            if (best < 0 || score > bestScore)
            {
                best = i;
                bestScore = score;
            }
        }

        return best;
    }

    /// <summary>
    /// The next replica to try for <paramref name="key"/> among the usable ones not in <paramref name="tried"/>: the
    /// best-ranked fresh one, else the best-ranked stale one; -1 when none is left. When every replica is stale (a CDC
    /// outage) this is plain HRW over the usable set: nothing moves.
    /// </summary>
    public int NextRoutable(ulong key, int tried)
    {
        var fresh = Next(key, tried, usableOnly: true, freshOnly: true);
        return fresh >= 0 ? fresh : Next(key, tried, usableOnly: true);
    }
}
