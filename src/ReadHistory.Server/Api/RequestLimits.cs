namespace ReadHistory.Server.Api;

/// <summary>The public API's limits (documented in protos/readhistory/v1/read_history.proto); configurable under ReadHistory:Limits (defaults in appsettings.json).</summary>
internal sealed class RequestLimits
{
    /// <summary>The configuration section.</summary>
    public const string Section = "ReadHistory:Limits";

    /// <summary>Content ids (or items) per user per call.</summary>
    public int MaxIdsPerCall { get; set; }

    /// <summary>Users in one BatchCheck.</summary>
    public int MaxBatchUsers { get; set; }

    /// <summary>Content ids in one BatchCheck, all users together.</summary>
    public int MaxBatchIds { get; set; }

    /// <summary>Bytes of UTF-8 in a session id.</summary>
    public int MaxSessionIdBytes { get; set; }

    /// <summary>Bytes in a tenant tag.</summary>
    public int MaxTenantBytes { get; set; }

    /// <summary>How far in the future a read_at may lie (clock skew allowance).</summary>
    public TimeSpan MaxReadAtAhead { get; set; }

    /// <summary>Rows one Ingest stream may have written but not yet acknowledged (a message larger than it still goes alone).</summary>
    public int MaxIngestRowsInFlight { get; set; }

    /// <summary>
    /// How long a call with one request message (unary, server streaming) may take to send it whole. Past it the call
    /// alone ends with DEADLINE_EXCEEDED: Kestrel's minimum request-body data rate is off for gRPC calls, as on HTTP/2 it
    /// is a rate of the whole connection and would drop every call on it.
    /// </summary>
    public TimeSpan RequestBodyTimeout { get; set; }

    /// <summary>Messages one Ingest stream (public or internal) may send; the next one ends it with RESOURCE_EXHAUSTED.</summary>
    public long MaxIngestMessagesPerStream { get; set; }

    /// <summary>How long an Ingest stream may leave the server waiting for its next message before it ends with DEADLINE_EXCEEDED.</summary>
    public TimeSpan IngestIdleTimeout { get; set; }

    /// <summary>Adds a problem per bad key.</summary>
    public void Validate(List<string> problems)
    {
        ArgumentNullException.ThrowIfNull(problems);
        if (MaxIdsPerCall is < 1 or > 1_000_000)
        {
            problems.Add($"{Section}:MaxIdsPerCall: {MaxIdsPerCall} is outside 1 .. 1,000,000");
        }

        if (MaxBatchUsers is < 1 or > 100_000)
        {
            problems.Add($"{Section}:MaxBatchUsers: {MaxBatchUsers} is outside 1 .. 100,000");
        }

        if (MaxBatchIds < 1)
        {
            problems.Add($"{Section}:MaxBatchIds: {MaxBatchIds} is below 1");
        }

        if (MaxSessionIdBytes < 0)
        {
            problems.Add($"{Section}:MaxSessionIdBytes: {MaxSessionIdBytes} is below 0");
        }

        if (MaxTenantBytes < 0)
        {
            problems.Add($"{Section}:MaxTenantBytes: {MaxTenantBytes} is below 0");
        }

        if (MaxIngestRowsInFlight is < 1 or > 1_000_000)
        {
            problems.Add($"{Section}:MaxIngestRowsInFlight: {MaxIngestRowsInFlight} is outside 1 .. 1,000,000");
        }

        if (RequestBodyTimeout <= TimeSpan.Zero || RequestBodyTimeout > TimeSpan.FromHours(1))
        {
            problems.Add($"{Section}:RequestBodyTimeout: {RequestBodyTimeout} is outside (0 .. 1 h]");
        }

        if (MaxIngestMessagesPerStream < 1)
        {
            problems.Add($"{Section}:MaxIngestMessagesPerStream: {MaxIngestMessagesPerStream} is below 1");
        }

        if (IngestIdleTimeout <= TimeSpan.Zero || IngestIdleTimeout > TimeSpan.FromDays(1))
        {
            problems.Add($"{Section}:IngestIdleTimeout: {IngestIdleTimeout} is outside (0 .. 1 day]");
        }

        if (MaxReadAtAhead < TimeSpan.Zero)
        {
            problems.Add($"{Section}:MaxReadAtAhead: {MaxReadAtAhead} is negative");
        }
    }
}
