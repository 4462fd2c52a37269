namespace ReadHistory.Server.Coherence;

/// <summary>How one ApplyChanges call to a peer ended.</summary>
internal enum PeerCallOutcome
{
    /// <summary>The peer applied the batch.</summary>
    Ok = 1,

    /// <summary>The call failed (peer down, refused, an error status): the peer backs off.</summary>
    Failed = 2,

    /// <summary>The call passed its deadline (peer frozen or overloaded): the peer backs off.</summary>
    Deadline = 3,
}
