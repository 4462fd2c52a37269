namespace ReadHistory.Server.Proxy;

/// <summary>One API key's call rate on a tenant, under ReadHistory:Proxy:Tenants:&lt;tag&gt;:Keys:&lt;key id&gt; (0 = the tenant's).</summary>
internal sealed class KeyLimitOptions
{
    /// <summary>Calls per second of the key on the tenant; 0 = the tenant's CallsPerSecond.</summary>
    public double CallsPerSecond { get; set; }

    /// <summary>Calls allowed at once above the rate; 0 = the tenant's Burst (or one second's worth of this rate).</summary>
    public int Burst { get; set; }
}
