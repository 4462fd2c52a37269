namespace ReadHistory.Server.Auth;

/// <summary>How the public API authenticates its callers (ReadHistory:Auth:Mode).</summary>
internal enum AuthMode
{
    /// <summary>No authentication: every caller may use every tenant. Refused on a non-loopback public address unless Auth:AllowAnonymous is set.</summary>
    Off,

    /// <summary>
    /// Bearer API keys (<c>authorization: Bearer &lt;key&gt;</c>), checked against the SHA-256 hashes of Auth:Keys; and,
    /// with Auth:ClientCaPath set, client certificates (TLS), checked against the thumbprints of Auth:Certificates.
    /// </summary>
    ApiKeys,
}
