namespace ReadHistory.Server.Auth;

/// <summary>One client certificate under ReadHistory:Auth:Certificates:&lt;id&gt;: its SHA-256 thumbprint, tenants and scopes, as an API key has.</summary>
internal sealed class ClientCertificateOptions
{
    /// <summary>The SHA-256 of the certificate's DER bytes, 64 hex digits (`openssl x509 -noout -fingerprint -sha256`, colons allowed).</summary>
    public string Sha256 { get; set; } = string.Empty;

    /// <summary>The tenants the certificate may use; the first is its default tenant.</summary>
    public List<string> Tenants { get; set; } = [];

    /// <summary>The scopes the certificate grants: read, write, forget.</summary>
    public List<string> Scopes { get; set; } = [];

    /// <summary>The thumbprint as the server compares it: lower-case hex, colons removed.</summary>
    public string NormalizedSha256 => Sha256.Replace(":", string.Empty, StringComparison.Ordinal).ToLowerInvariant();
}
