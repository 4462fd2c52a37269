namespace ReadHistory.Server.Proxy;

/// <summary>
/// One tenant's limits at the proxy (0 = unlimited). The call rate is a budget per caller: each API key using the
/// tenant has its own bucket of this rate; anonymous callers (Auth:Mode Off) share the tenant's one.
/// </summary>
internal sealed class TenantLimitOptions
{
    /// <summary>Calls per second, refilled continuously (a token bucket), per API key on the tenant.</summary>
    public double CallsPerSecond { get; set; }

    /// <summary>Calls allowed at once above the rate; 0 = one second's worth.</summary>
    public int Burst { get; set; }

    /// <summary>Content ids (or items) per user per call, below the global limit.</summary>
    public int MaxIdsPerCall { get; set; }

    /// <summary>Call rates of particular API keys on this tenant, by key id (ReadHistory:Auth:Keys:&lt;id&gt;), in place of the tenant's.</summary>
    public Dictionary<string, KeyLimitOptions> Keys { get; set; } = new(StringComparer.Ordinal);
}
