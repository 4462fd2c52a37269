namespace ReadHistory.Server.Cdc;

/// <summary>
/// The keys of one coherence slot, sharing one Redis Cluster hash tag: its change stream, and a hash with its epoch
/// ("epoch", 16 hex digits), the fencing counter of the newest publisher that wrote to it ("fence") and how many
/// batches were ever appended ("seq", which lets the publisher notice a failover that lost the stream's tail).
/// </summary>
/// <param name="Stream">The change stream.</param>
/// <param name="State">The slot's state hash.</param>
internal readonly record struct SlotKeys(string Stream, string State)
{
    /// <summary>The state hash's epoch field.</summary>
    public const string EpochField = "epoch";

    /// <summary>The state hash's fencing-counter field.</summary>
    public const string FenceField = "fence";

    /// <summary>The state hash's publish-count field.</summary>
    public const string SeqField = "seq";
}
