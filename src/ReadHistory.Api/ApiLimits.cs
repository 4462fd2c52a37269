namespace ReadHistory.Api;

/// <summary>
/// The public API's documented limits (protos/readhistory/v1/read_history.proto), for clients that check a request
/// before sending it. A server may be configured with other values (ReadHistory:Limits); its shipped defaults are these.
/// </summary>
public static class ApiLimits
{
    /// <summary>Content ids (or items) per user per call.</summary>
    public const int MaxIdsPerCall = 10_000;
}
