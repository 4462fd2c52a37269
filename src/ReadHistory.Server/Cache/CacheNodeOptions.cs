using ReadHistory.Core.Filters;
using ReadHistory.Server.Cache;

namespace ReadHistory.Server.Hosting;

/// <summary>The cache role's settings, under ReadHistory:Cache (bound from configuration, then turned into <see cref="CacheOptions"/>).</summary>
internal sealed class CacheNodeOptions
{
    /// <summary>The pool this node serves (a pool name of the topology; "default" without one).</summary>
    public string Pool { get; set; } = "default";

    /// <summary>Most bytes of filters held (default 1 GiB).</summary>
    public long BudgetBytes { get; set; } = 1L << 30;

    /// <summary>Replicas per slot: a StatefulSet pod with ordinal n serves slot n / R, replica n % R.</summary>
    public int ReplicasPerSlot { get; set; } = 1;

    /// <summary>The slot this node serves; -1 = from the trailing ordinal n of NodeName (slot = n / ReplicasPerSlot).</summary>
    public int Slot { get; set; } = -1;

    /// <summary>Target false-positive rate of every user's filter (default 1 %).</summary>
    public double TargetFalsePositiveRate { get; set; } = 0.01;

    /// <summary>Largest filter of one user; beyond it the user is answered by point queries (default 64 MiB).</summary>
    public long MaxFilterBytes { get; set; } = 64L << 20;

    /// <summary>Rebuilds running at once (default: half the cores, at least 1).</summary>
    public int RebuildConcurrency { get; set; } = CacheOptions.DefaultRebuildConcurrency;

    /// <summary>Rows per second all rebuild scans may read together, so that rebuilds stay low priority; 0 = unlimited (default 500,000).</summary>
    public long RebuildRowsPerSecond { get; set; } = CacheOptions.DefaultRebuildRowsPerSecond;

    /// <summary>This node's replica index in its slot (its place in the topology's replica list); -1 = the trailing ordinal n of NodeName, n % ReplicasPerSlot.</summary>
    public int Replica { get; set; } = -1;

    /// <summary>
    /// Bound on warm start (finding a serving peer of the slot in the topology, copying its filters, replaying the
    /// stream up to now); past it the node starts cold and reports ready. 0 = never warm-start (default 60 s).
    /// </summary>
    public TimeSpan WarmStartTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Filter data per Snapshot message asked of the peer (default 1 MiB; 64 B .. 4 MiB).</summary>
    public int WarmStartChunkBytes { get; set; } = SnapshotSender.DefaultChunkBytes;

    /// <summary>HTTP/2 receive window of the Snapshot stream: bytes the peer may send ahead (default 1 MiB; 64 KiB .. 16 MiB; see <see cref="WarmStartOptions.WindowBytes"/>).</summary>
    public int WarmStartWindowBytes { get; set; } = new WarmStartOptions().WindowBytes;

    /// <summary>Adds a problem per bad key.</summary>
    public void Validate(List<string> problems)
    {
        if (BudgetBytes < 1 << 20)
        {
            problems.Add($"ReadHistory:Cache:BudgetBytes: {BudgetBytes} is below 1 MiB");
        }

        if (ReplicasPerSlot is < 1 or > 16)
        {
            problems.Add($"ReadHistory:Cache:ReplicasPerSlot: {ReplicasPerSlot} is outside 1 .. 16");
        }

        if (TargetFalsePositiveRate is <= 0 or >= 0.5)
        {
            problems.Add($"ReadHistory:Cache:TargetFalsePositiveRate: {TargetFalsePositiveRate} is outside (0, 0.5)");
        }

        if (MaxFilterBytes < 64 || MaxFilterBytes > BudgetBytes)
        {
            problems.Add($"ReadHistory:Cache:MaxFilterBytes: {MaxFilterBytes} is outside 64 .. BudgetBytes ({BudgetBytes})");
        }

        if (Slot is < -1 or > 4095)
        {
            problems.Add($"ReadHistory:Cache:Slot: {Slot} is outside -1 .. 4095");
        }

        if (RebuildConcurrency is < 1 or > 64)
        {
            problems.Add($"ReadHistory:Cache:RebuildConcurrency: {RebuildConcurrency} is outside 1 .. 64");
        }

        if (RebuildRowsPerSecond < 0)
        {
            problems.Add($"ReadHistory:Cache:RebuildRowsPerSecond: {RebuildRowsPerSecond} is below 0 (0 = unlimited)");
        }

        if (Replica is < -1 or > 15)
        {
            problems.Add($"ReadHistory:Cache:Replica: {Replica} is outside -1 .. 15");
        }

        if (WarmStartTimeout < TimeSpan.Zero || WarmStartTimeout > TimeSpan.FromHours(1))
        {
            problems.Add($"ReadHistory:Cache:WarmStartTimeout: {WarmStartTimeout} is outside 0 .. 1 hour");
        }

        if (WarmStartChunkBytes is < SnapshotSender.MinChunkBytes or > SnapshotSender.MaxChunkBytes)
        {
            problems.Add($"ReadHistory:Cache:WarmStartChunkBytes: {WarmStartChunkBytes} is outside {SnapshotSender.MinChunkBytes} .. {SnapshotSender.MaxChunkBytes}");
        }

        if (WarmStartWindowBytes is < WarmStartOptions.MinWindowBytes or > WarmStartOptions.MaxWindowBytes)
        {
            problems.Add($"ReadHistory:Cache:WarmStartWindowBytes: {WarmStartWindowBytes} is outside {WarmStartOptions.MinWindowBytes} .. {WarmStartOptions.MaxWindowBytes}");
        }
    }

    /// <summary>This node's replica index: <see cref="Replica"/> when set, else the StatefulSet ordinal modulo ReplicasPerSlot (0 without one).</summary>
    public int ReplicaOf(string nodeName)
    {
        if (Replica >= 0)
        {
            return Replica;
        }

        return Ordinal(nodeName) is { } ordinal ? ordinal % ReplicasPerSlot : 0;
    }

    /// <summary>
    /// The other replicas of this node's slot in <paramref name="topology"/> (its pool by name, its slot, every
    /// replica but its own index), starting after its own so that starting nodes spread over their peers.
    /// </summary>
    public IReadOnlyList<Uri> PeersOf(TopologyOptions topology, string nodeName)
    {
        ArgumentNullException.ThrowIfNull(topology);
        var pool = topology.Pools.Find(p => p.Name == Pool);
        var slot = SlotOf(nodeName);
        if (pool is null || slot >= pool.Slots.Count)
        {
            return [];
        }

        var replicas = pool.Slots[slot].Replicas;
        var own = ReplicaOf(nodeName);
        var peers = new List<Uri>(replicas.Count);
        for (var i = 1; i <= replicas.Count; i++)
        {
            var index = (own + i) % replicas.Count;
            if (index != own && Uri.TryCreate(replicas[index], UriKind.Absolute, out var uri))
            {
                peers.Add(uri);
            }
        }

        return peers;
    }

    /// <summary>The slot of this node: <see cref="Slot"/> when set, else from the StatefulSet ordinal at the end of the node name (0 without one).</summary>
    public int SlotOf(string nodeName)
    {
        if (Slot >= 0)
        {
            return Slot;
        }

        return Ordinal(nodeName) is { } ordinal ? ordinal / ReplicasPerSlot : 0;
    }

    private static int? Ordinal(string nodeName)
    {
        var dash = nodeName.LastIndexOf('-');
        return dash >= 0 && int.TryParse(nodeName.AsSpan(dash + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ordinal)
            ? ordinal
            : null;
    }

    /// <summary>The cache's own options.</summary>
    public CacheOptions ToCacheOptions() => new()
    {
        Pool = Pool,
        BudgetBytes = BudgetBytes,
        RebuildConcurrency = RebuildConcurrency,
        RebuildRowsPerSecond = RebuildRowsPerSecond,
        Filter = new BloomFilterOptions { TargetFalsePositiveRate = TargetFalsePositiveRate, MaxBytes = MaxFilterBytes },
    };
}
