using System.Security.Claims;

namespace ReadHistory.Server.Auth;

/// <summary>
/// The identity of a caller that presented a known API key: its id, scopes (as claims, for the authorization policies)
/// and tenants (for <see cref="TenantAccessInterceptor"/>, read as a set without walking claims on every call).
/// Built once per key when the keys are loaded, shared by every call that presents it.
/// </summary>
internal sealed class ApiKeyIdentity : ClaimsIdentity
{
    /// <summary>The claim type of a granted scope.</summary>
    public const string ScopeClaim = "readhistory:scope";

    private readonly HashSet<string> _tenants;

    /// <summary>The identity of key <paramref name="id"/>.</summary>
    public ApiKeyIdentity(string id, ApiKeyOptions key)
        : base(ClaimsOf(id, key), ApiKeyAuthenticationHandler.SchemeName)
    {
        ArgumentNullException.ThrowIfNull(key);
        Id = id;
        DefaultTenant = key.Tenants[0];
        _tenants = new HashSet<string>(key.Tenants, StringComparer.Ordinal);
    }

    /// <summary>The key's id (never the key).</summary>
    public string Id { get; }

    /// <summary>The tenant a call with an empty tenant is for.</summary>
    public string DefaultTenant { get; }

    /// <summary>Whether the key may use <paramref name="tenant"/>.</summary>
    public bool Holds(string tenant) => _tenants.Contains(tenant);

    private static IEnumerable<Claim> ClaimsOf(string id, ApiKeyOptions key)
    {
        yield return new Claim(ClaimTypes.NameIdentifier, id);
        foreach (var scope in key.Scopes)
        {
            yield return new Claim(ScopeClaim, scope);
        }
    }
}
