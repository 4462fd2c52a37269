using ReadHistory.Core.Routing;
using ReadHistory.Server.Topology;

namespace ReadHistory.Server.Cdc;

/// <summary>
/// The pools and slot counts the publisher groups changes by: every change goes to one slot of every pool
/// (slot = JumpConsistentHash(user, slots of the pool)), the same rule the proxy routes by. No pools configured
/// means one pool "default" of one slot.
/// </summary>
internal sealed class CdcTopology
{
    private readonly int[] _slotCounts;
    private readonly int[] _firstStream;

    /// <summary>Creates the map from (pool name, slot count) pairs.</summary>
    public CdcTopology(IReadOnlyList<(string Pool, int Slots)> pools)
    {
        ArgumentNullException.ThrowIfNull(pools);
        if (pools.Count == 0)
        {
            pools = [("default", 1)];
        }

        Pools = pools.Select(static p => p.Pool).ToArray();
        _slotCounts = pools.Select(static p => p.Slots).ToArray();
        _firstStream = new int[pools.Count];
        var total = 0;
        for (var p = 0; p < pools.Count; p++)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(_slotCounts[p], 1, nameof(pools));
            _firstStream[p] = total;
            total += _slotCounts[p];
        }

        StreamCount = total;
    }

    /// <summary>The pool names, in order.</summary>
    public IReadOnlyList<string> Pools { get; }

    /// <summary>Streams over all pools (the sum of the slot counts).</summary>
    public int StreamCount { get; }

    /// <summary>Builds the map from the configured topology.</summary>
    public static CdcTopology From(TopologyOptions topology)
    {
        ArgumentNullException.ThrowIfNull(topology);
        return new CdcTopology(topology.Pools.Select(static p => (p.Name, p.Slots.Count)).ToArray());
    }

    /// <summary>Slots of pool <paramref name="pool"/>.</summary>
    public int SlotCount(int pool) => _slotCounts[pool];

    /// <summary>The dense index (0 .. StreamCount - 1) of the stream that carries <paramref name="user"/>'s changes in pool <paramref name="pool"/>.</summary>
    public int StreamIndex(int pool, ulong user) => _firstStream[pool] + JumpConsistentHash.Bucket(user, _slotCounts[pool]);

    /// <summary>The pool and slot of a dense stream index.</summary>
    public (int Pool, int Slot) StreamAt(int index)
    {
        var pool = Array.BinarySearch(_firstStream, index);
        if (pool < 0)
        {
            pool = ~pool - 1;
        }

        return (pool, index - _firstStream[pool]);
    }
}
