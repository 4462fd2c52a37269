namespace ReadHistory.Server.Api;

/// <summary>The public API's limits (documented in protos/readhistory/v1/read_history.proto); configurable under ReadHistory:Limits.</summary>
internal sealed class RequestLimits
{
    /// <summary>Content ids (or items) per user per call.</summary>
    public int MaxIdsPerCall { get; set; } = 10_000;

    /// <summary>Users in one BatchCheck.</summary>
    public int MaxBatchUsers { get; set; } = 1_000;

    /// <summary>Content ids in one BatchCheck, all users together.</summary>
    public int MaxBatchIds { get; set; } = 1_000_000;

    /// <summary>Bytes of UTF-8 in a session id.</summary>
    public int MaxSessionIdBytes { get; set; } = 128;

    /// <summary>Bytes in a tenant tag.</summary>
    public int MaxTenantBytes { get; set; } = 64;

    /// <summary>How far in the future a read_at may lie (clock skew allowance).</summary>
    public TimeSpan MaxReadAtAhead { get; set; } = TimeSpan.FromDays(1);
}
