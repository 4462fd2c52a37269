using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace ReadHistory.Server.Auth;

/// <summary>
/// ASP.NET Core authentication of bearer API keys: <c>authorization: Bearer &lt;key&gt;</c> (gRPC metadata), looked up
/// by its SHA-256 in the <see cref="ApiKeyRing"/>. No header is no result and a key not in force fails: either
/// way the call has no identity, which <see cref="TenantAccessInterceptor"/> answers UNAUTHENTICATED.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiKeyRing keys)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    /// <summary>The scheme name.</summary>
    public const string SchemeName = "ApiKey";

    private const string Bearer = "Bearer ";

    /// <inheritdoc />
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers[HeaderNames.Authorization];
        if (header.Count == 0)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var value = header.Count == 1 ? header[0].AsSpan() : [];
        if (!value.StartsWith(Bearer, StringComparison.OrdinalIgnoreCase))
        {
            return Task.FromResult(AuthenticateResult.Fail("authorization is not a single bearer token"));
        }

        return keys.Authenticate(value[Bearer.Length..].Trim()) ?? Task.FromResult(AuthenticateResult.Fail("the API key is not in force"));
    }
}
