namespace ReadHistory.Server.Proxy;

/// <summary>One tenant's limits at the proxy (0 = unlimited).</summary>
internal sealed class TenantLimitOptions
{
    /// <summary>Calls per second, refilled continuously (a token bucket).</summary>
    public double CallsPerSecond { get; set; }

    /// <summary>Calls allowed at once above the rate; 0 = one second's worth.</summary>
    public int Burst { get; set; }

    /// <summary>Content ids (or items) per user per call, below the global limit.</summary>
    public int MaxIdsPerCall { get; set; }
}
