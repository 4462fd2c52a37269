namespace ReadHistory.Server.Cache;

/// <summary>How a warm start ended.</summary>
internal enum WarmStartOutcome
{
    /// <summary>The peer sent everything it held; the node is warm.</summary>
    Completed,

    /// <summary>
    /// The node's budget filled before the peer was done (the install hit it, or the peer stopped at the bytes the
    /// budget had left with filters unsent); the node is warm with the hottest users that fit.
    /// </summary>
    BudgetFull,

    /// <summary>No usable copy (peer unreachable, refused, corrupt or truncated data, timeout): nothing is kept; the node starts cold.</summary>
    Failed,
}
