namespace ReadHistory.Server.Api.Admission;

/// <summary>The classes of calls admission control bounds separately (each with its own permits).</summary>
internal enum CallClass
{
    /// <summary>Not bounded: health, reflection, warm start, peer fan-out, stats.</summary>
    None = 0,

    /// <summary>Check and Filter: one user's candidates.</summary>
    Checks,

    /// <summary>MarkRead, ForgetUser / Forget, and each message of an Ingest stream: their own permits, never taken by reads.</summary>
    Writes,

    /// <summary>BatchCheck: many users per call (the push service).</summary>
    Batch,
}
