using System.Globalization;

namespace ReadHistory.Server.Auth;

/// <summary>
/// Authentication of the public API, under ReadHistory:Auth. Mode, AllowAnonymous and ClientCaPath are read at start;
/// the keys and certificates are re-read when the configuration reloads (<see cref="ApiKeyRing"/>), so one is issued or
/// revoked without a restart.
/// </summary>
internal sealed class AuthOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "ReadHistory:Auth";

    /// <summary>Off, or ApiKeys.</summary>
    public AuthMode Mode { get; set; }

    /// <summary>With Mode Off, lets the public API listen on a non-loopback address (logged as a warning at start).</summary>
    public bool AllowAnonymous { get; set; }

    /// <summary>API keys by id (the id names the key in logs and metrics; it is not secret).</summary>
    public Dictionary<string, ApiKeyOptions> Keys { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// The CA (PEM) a client certificate on the public port must chain to; set (with ReadHistory:TlsCertificatePath),
    /// the public port asks for a client certificate and <see cref="Certificates"/> authenticate as a second scheme.
    /// </summary>
    public string ClientCaPath { get; set; } = string.Empty;

    /// <summary>Client certificates by id (an id names the certificate in logs, metrics and rate limits, as a key id does; ids are shared with <see cref="Keys"/>).</summary>
    public Dictionary<string, ClientCertificateOptions> Certificates { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Adds a problem per bad key.</summary>
    public void Validate(List<string> problems)
    {
        ArgumentNullException.ThrowIfNull(problems);
        var hashes = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (id, key) in Keys)
        {
            var path = $"{Section}:Keys:{id}";
            if (key.Sha256.Length != 64 || !key.Sha256.All(Uri.IsHexDigit))
            {
                problems.Add($"{path}:Sha256: must be the key's SHA-256, 64 hex digits");
            }
            else if (!hashes.TryAdd(key.Sha256, id))
            {
                problems.Add($"{path}:Sha256: the same key as {Section}:Keys:{hashes[key.Sha256]}");
            }

            ValidateGrant(path, id, key.Tenants, key.Scopes, problems);
        }

        if (ClientCaPath.Length > 0 && !File.Exists(ClientCaPath))
        {
            problems.Add($"{Section}:ClientCaPath: file '{ClientCaPath}' does not exist");
        }

        var thumbprints = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (id, certificate) in Certificates)
        {
            var path = $"{Section}:Certificates:{id}";
            var thumbprint = certificate.NormalizedSha256;
            if (thumbprint.Length != 64 || !thumbprint.All(Uri.IsHexDigit))
            {
                problems.Add($"{path}:Sha256: must be the certificate's SHA-256 thumbprint, 64 hex digits");
            }
            else if (!thumbprints.TryAdd(thumbprint, id))
            {
                problems.Add($"{path}:Sha256: the same certificate as {Section}:Certificates:{thumbprints[thumbprint]}");
            }

            if (Keys.ContainsKey(id))
            {
                problems.Add($"{path}: the id is an API key's too ({Section}:Keys:{id}): rate limits and metrics would not tell them apart");
            }

            ValidateGrant(path, id, certificate.Tenants, certificate.Scopes, problems);
        }
    }

    // The id, tenants and scopes of a key or a certificate.
    private static void ValidateGrant(string path, string id, List<string> tenants, List<string> scopes, List<string> problems)
    {
        if (!IsTag(id) || id.Length == 0)
        {
            problems.Add($"{path}: the id must be 1-64 of a-z, 0-9, '_' and '-'");
        }

        if (tenants.Count == 0)
        {
            problems.Add($"{path}:Tenants: needs at least one tenant (the first is its default; \"\" is the default tenant)");
        }

        for (var i = 0; i < tenants.Count; i++)
        {
            if (!IsTag(tenants[i]))
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"{path}:Tenants:{i}: must be at most 64 of a-z, 0-9, '_' and '-'"));
            }
        }

        if (scopes.Count == 0)
        {
            problems.Add($"{path}:Scopes: needs at least one of {string.Join(", ", ApiScopes.All)}");
        }

        for (var i = 0; i < scopes.Count; i++)
        {
            if (!ApiScopes.All.Contains(scopes[i]))
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"{path}:Scopes:{i}: '{scopes[i]}' is not one of {string.Join(", ", ApiScopes.All)}"));
            }
        }
    }

    private static bool IsTag(string text) =>
        text.Length <= 64 && text.All(static c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' or '-');
}
