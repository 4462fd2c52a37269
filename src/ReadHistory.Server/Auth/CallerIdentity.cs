using System.Security.Claims;

namespace ReadHistory.Server.Auth;

/// <summary>
/// The identity of an authenticated caller of the public API, an API key or a client certificate alike: its id, scopes
/// (as claims, and as a set for <see cref="TenantAccessInterceptor"/>) and tenants (for <see cref="TenantAccessInterceptor"/>, read as a set
/// without walking claims on every call). Built once per credential when they are loaded, shared by every call that
/// presents it; the rate limits key on <see cref="Id"/> whatever the scheme.
/// </summary>
internal sealed class CallerIdentity : ClaimsIdentity
{
    /// <summary>The claim type of a granted scope.</summary>
    public const string ScopeClaim = "readhistory:scope";

    private readonly HashSet<string> _tenants;
    private readonly HashSet<string> _scopes;

    /// <summary>The identity of credential <paramref name="id"/>, authenticated by <paramref name="scheme"/>.</summary>
    public CallerIdentity(string id, IReadOnlyList<string> tenants, IReadOnlyList<string> scopes, string scheme)
        : base(ClaimsOf(id, scopes), scheme)
    {
        ArgumentNullException.ThrowIfNull(tenants);
        Id = id;
        DefaultTenant = tenants[0];
        _tenants = new HashSet<string>(tenants, StringComparer.Ordinal);
        _scopes = new HashSet<string>(scopes, StringComparer.Ordinal);
    }

    /// <summary>The identity of API key <paramref name="id"/>.</summary>
    public CallerIdentity(string id, ApiKeyOptions key)
        : this(id, (key ?? throw new ArgumentNullException(nameof(key))).Tenants, key.Scopes, ApiKeyAuthenticationHandler.SchemeName)
    {
    }

    /// <summary>The credential's id (never the key, never the certificate).</summary>
    public string Id { get; }

    /// <summary>The tenant a call with an empty tenant is for.</summary>
    public string DefaultTenant { get; }

    /// <summary>Whether the credential may use <paramref name="tenant"/>.</summary>
    public bool Holds(string tenant) => _tenants.Contains(tenant);

    /// <summary>Whether the credential grants <paramref name="scope"/> (<see cref="ApiScopes"/>).</summary>
    public bool Grants(string scope) => _scopes.Contains(scope);

    private static IEnumerable<Claim> ClaimsOf(string id, IReadOnlyList<string> scopes)
    {
        yield return new Claim(ClaimTypes.NameIdentifier, id);
        foreach (var scope in scopes)
        {
            yield return new Claim(ScopeClaim, scope);
        }
    }
}
