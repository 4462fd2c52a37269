namespace ReadHistory.Server.Cache;

/// <summary>Where a cache node's answer to a check came from (the Api room maps it to the wire's AnswerSource).</summary>
internal enum CheckSource
{
    /// <summary>The user's filter, in this node's memory (T1).</summary>
    Memory = 1,

    /// <summary>A point query to the database for exactly the requested ids (a miss, or a capped user).</summary>
    Database = 2,

    /// <summary>A point query for another slot whose replicas are all down: nothing held, nothing started.</summary>
    Passthrough = 3,

    /// <summary>
    /// The user's filter, in memory, while the node was past its staleness bound (<see cref="NodeFreshness"/>): a read
    /// acknowledged through another replica may be missing.
    /// </summary>
    MemoryStale = 4,

    /// <summary>The user's filter, just loaded from its T2 snapshot (Redis) and brought up to date from the slot's stream.</summary>
    Snapshot = 5,
}
