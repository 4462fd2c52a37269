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

    /// <summary>Rebuilds running at once (default 4).</summary>
    public int RebuildConcurrency { get; set; } = 4;

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
    }

    /// <summary>The slot of this node: <see cref="Slot"/> when set, else from the StatefulSet ordinal at the end of the node name (0 without one).</summary>
    public int SlotOf(string nodeName)
    {
        if (Slot >= 0)
        {
            return Slot;
        }

        var dash = nodeName.LastIndexOf('-');
        return dash >= 0 && int.TryParse(nodeName.AsSpan(dash + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ordinal)
            ? ordinal / ReplicasPerSlot
            : 0;
    }

    /// <summary>The cache's own options.</summary>
    public CacheOptions ToCacheOptions() => new()
    {
        Pool = Pool,
        BudgetBytes = BudgetBytes,
        RebuildConcurrency = RebuildConcurrency,
        Filter = new BloomFilterOptions { TargetFalsePositiveRate = TargetFalsePositiveRate, MaxBytes = MaxFilterBytes },
    };
}
