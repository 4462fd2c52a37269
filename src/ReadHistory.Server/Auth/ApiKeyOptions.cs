namespace ReadHistory.Server.Auth;

/// <summary>One API key under ReadHistory:Auth:Keys:&lt;id&gt;: its hash, tenants and scopes (the key itself is never stored).</summary>
internal sealed class ApiKeyOptions
{
    /// <summary>The SHA-256 of the key's UTF-8 bytes, 64 hex digits (`readhistory-cli keys new` prints it).</summary>
    public string Sha256 { get; set; } = string.Empty;

    /// <summary>The tenants the key may use; the first is its default tenant (what a call with an empty tenant uses).</summary>
    public List<string> Tenants { get; set; } = [];

    /// <summary>The scopes the key grants: read, write, forget.</summary>
    public List<string> Scopes { get; set; } = [];
}
