using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.Features.Authentication;
using Microsoft.Net.Http.Headers;

namespace ReadHistory.Server.Auth;

/// <summary>
/// ASP.NET Core's authentication step (what <c>UseAuthentication</c> does for the default scheme: authenticate, set
/// the user) with one difference: on a public connection that carries a
/// <see cref="ConnectionAuthentication"/>, a call presenting the credential the previous successful call of the
/// connection presented, under the same key ring generation and within the certificate's validity, is given that
/// result instead of running the scheme's handler again. Everything else, first calls, other credentials, failures and
/// connections without the feature, goes through <see cref="AuthenticationHttpContextExtensions.AuthenticateAsync(HttpContext)"/>.
/// </summary>
/// <remarks>
/// Why: the framework's per-call path (the handler provider, a handler instance, a new ticket and result) was most of
/// the cost of authentication on the hit path (bench/RESULTS.md, "Security"). A key revoked by a reload bumps the
/// ring's generation, so no remembered result outlives it.
/// </remarks>
internal sealed class ConnectionAuthenticationMiddleware(RequestDelegate next, ApiKeyRing keys, TimeProvider time)
{
    /// <summary>Authenticates the call, from the connection's memo when it holds this credential.</summary>
    public Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var memo = context.Features.Get<ConnectionAuthentication>();
        string? header = context.Request.Headers[HeaderNames.Authorization];
        var generation = keys.Generation;
        if (memo?.Find(header, generation, time.GetUtcNow()) is { } remembered)
        {
            Apply(context, remembered);
            return next(context);
        }

        return AuthenticateAsync(context, memo, header, generation);
    }

    private async Task AuthenticateAsync(HttpContext context, ConnectionAuthentication? memo, string? header, int generation)
    {
        var result = await context.AuthenticateAsync();
        if (result.Succeeded)
        {
            // A certificate's principal holds while the certificate is valid; a key's until the next reload.
            var notAfter = header is null && context.Connection.ClientCertificate is { } certificate
                ? new DateTimeOffset(certificate.NotAfter.ToUniversalTime())
                : DateTimeOffset.MaxValue;
            memo?.Remember(header, generation, result, notAfter);
            Apply(context, result);
        }
        else if (result.Principal is not null)
        {
            context.User = result.Principal;
        }

        await next(context);
    }

    // The user, as the framework's middleware sets it (HttpContext.User reads this feature). Not the result feature
    // (IAuthenticateResultFeature): only ASP.NET Core's authorization reads it, and the access rules are an interceptor's.
    private static void Apply(HttpContext context, AuthenticateResult result) =>
        context.Features.Set<IHttpAuthenticationFeature>(new HttpAuthenticationFeature { User = result.Principal });
}
