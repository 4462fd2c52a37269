using System.Globalization;

namespace ReadHistory.Server.Topology;

/// <summary>
/// Where this process sits in the topology: its name, the pool it serves, its slot and its replica index. Slot and
/// replica are configured, or (-1) taken from the StatefulSet ordinal n at the end of the node name: slot n / R,
/// replica n % R for R replicas per slot (0 without an ordinal).
/// </summary>
internal sealed class NodePlacement
{
    /// <summary>Places a node: <paramref name="slot"/> and <paramref name="replica"/> when set (not -1), else from the name's ordinal.</summary>
    public NodePlacement(string nodeName, string pool, int slot, int replica, int replicasPerSlot)
    {
        ArgumentNullException.ThrowIfNull(nodeName);
        ArgumentOutOfRangeException.ThrowIfLessThan(replicasPerSlot, 1);
        NodeName = nodeName;
        Pool = pool;
        var ordinal = Ordinal(nodeName);
        Slot = slot >= 0 ? slot : ordinal is { } s ? s / replicasPerSlot : 0;
        Replica = replica >= 0 ? replica : ordinal is { } r ? r % replicasPerSlot : 0;
    }

    /// <summary>This node's name (a StatefulSet pod name in Kubernetes).</summary>
    public string NodeName { get; }

    /// <summary>The pool this node serves.</summary>
    public string Pool { get; }

    /// <summary>The slot this node serves.</summary>
    public int Slot { get; }

    /// <summary>This node's place in its slot's replica list.</summary>
    public int Replica { get; }

    /// <summary>
    /// The other replicas of this node's slot in <paramref name="topology"/> (its pool by name, its slot, every
    /// replica but its own index), starting after its own so that starting nodes spread over their peers.
    /// </summary>
    public IReadOnlyList<Uri> PeersIn(TopologyOptions topology)
    {
        ArgumentNullException.ThrowIfNull(topology);
        var pool = topology.Pools.Find(p => p.Name == Pool);
        if (pool is null || Slot >= pool.Slots.Count)
        {
            return [];
        }

        var replicas = pool.Slots[Slot].Replicas;
        var peers = new List<Uri>(replicas.Count);
        for (var i = 1; i <= replicas.Count; i++)
        {
            var index = (Replica + i) % replicas.Count;
            if (index != Replica && Uri.TryCreate(replicas[index], UriKind.Absolute, out var uri))
            {
                peers.Add(uri);
            }
        }

        return peers;
    }

    private static int? Ordinal(string nodeName)
    {
        var dash = nodeName.LastIndexOf('-');
        return dash >= 0 && int.TryParse(nodeName.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var ordinal)
            ? ordinal
            : null;
    }
}
