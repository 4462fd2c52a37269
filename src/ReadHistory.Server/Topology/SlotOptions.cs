namespace ReadHistory.Server.Topology;

/// <summary>One slot: its replicas' gRPC endpoints.</summary>
internal sealed class SlotOptions
{
    /// <summary>Replica endpoints (http://host:port), in replica order.</summary>
    public List<string> Replicas { get; set; } = [];
}
