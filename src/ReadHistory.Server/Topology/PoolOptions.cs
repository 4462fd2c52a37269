namespace ReadHistory.Server.Topology;

/// <summary>One cache pool: the tenants it serves and its slots.</summary>
internal sealed class PoolOptions
{
    /// <summary>The pool's name (feed, push, ...), used in stream keys and metric labels.</summary>
    public string Name { get; set; } = "default";

    /// <summary>Tenant tags routed to this pool; "" is the default tenant.</summary>
    public List<string> Tenants { get; set; } = [];

    /// <summary>The slots, in order: slot k of S is JumpConsistentHash(user, S) == k.</summary>
    public List<SlotOptions> Slots { get; set; } = [];
}
