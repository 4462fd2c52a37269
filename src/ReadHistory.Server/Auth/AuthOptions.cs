using System.Globalization;

namespace ReadHistory.Server.Auth;

/// <summary>
/// Authentication of the public API, under ReadHistory:Auth. Mode and AllowAnonymous are read at start; the keys are
/// re-read when the configuration reloads (<see cref="ApiKeyRing"/>), so a key is issued or revoked without a restart.
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

    /// <summary>Adds a problem per bad key.</summary>
    public void Validate(List<string> problems)
    {
        ArgumentNullException.ThrowIfNull(problems);
        var hashes = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (id, key) in Keys)
        {
            var path = $"{Section}:Keys:{id}";
            if (!IsTag(id) || id.Length == 0)
            {
                problems.Add($"{path}: the key id must be 1-64 of a-z, 0-9, '_' and '-'");
            }

            if (key.Sha256.Length != 64 || !key.Sha256.All(Uri.IsHexDigit))
            {
                problems.Add($"{path}:Sha256: must be the key's SHA-256, 64 hex digits");
            }
            else if (!hashes.TryAdd(key.Sha256, id))
            {
                problems.Add($"{path}:Sha256: the same key as {Section}:Keys:{hashes[key.Sha256]}");
            }

            if (key.Tenants.Count == 0)
            {
                problems.Add($"{path}:Tenants: a key needs at least one tenant (the first is its default; \"\" is the default tenant)");
            }

            for (var i = 0; i < key.Tenants.Count; i++)
            {
                if (!IsTag(key.Tenants[i]))
                {
                    problems.Add(string.Create(CultureInfo.InvariantCulture, $"{path}:Tenants:{i}: must be at most 64 of a-z, 0-9, '_' and '-'"));
                }
            }

            if (key.Scopes.Count == 0)
            {
                problems.Add($"{path}:Scopes: a key needs at least one of {string.Join(", ", ApiScopes.All)}");
            }

            for (var i = 0; i < key.Scopes.Count; i++)
            {
                if (!ApiScopes.All.Contains(key.Scopes[i]))
                {
                    problems.Add(string.Create(CultureInfo.InvariantCulture, $"{path}:Scopes:{i}: '{key.Scopes[i]}' is not one of {string.Join(", ", ApiScopes.All)}"));
                }
            }
        }
    }

    private static bool IsTag(string text) =>
        text.Length <= 64 && text.All(static c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' or '-');
}
