using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Authorization.Infrastructure;

namespace ReadHistory.Server.Auth;

/// <summary>
/// Answers a refused gRPC call as gRPC does (HTTP 200, trailers-only status), not with the bare HTTP 401 / 403 of the
/// default handler: no key, or a key not in force, is UNAUTHENTICATED; a key without the method's scope is
/// PERMISSION_DENIED naming the scope, never the key.
/// </summary>
internal sealed class GrpcAuthorizationResultHandler : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    /// <inheritdoc />
    public Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(authorizeResult);
        if (authorizeResult.Succeeded || context.Request.ContentType?.StartsWith("application/grpc", StringComparison.Ordinal) != true)
        {
            return _default.HandleAsync(next, context, policy, authorizeResult);
        }

        if (authorizeResult.Challenged)
        {
            Refuse(context.Response, 16, "the call needs a valid API key (metadata authorization: Bearer <key>) or client certificate");
        }
        else
        {
            var scope = policy.Requirements.OfType<ClaimsAuthorizationRequirement>().SelectMany(static r => r.AllowedValues ?? []).FirstOrDefault() ?? ApiScopes.Unlisted;
            Refuse(context.Response, 7, "the API key or certificate does not grant the '" + scope + "' scope this method needs");
        }

        return Task.CompletedTask;
    }

    private static void Refuse(HttpResponse response, int status, string message)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/grpc";
        response.Headers["grpc-status"] = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
        response.Headers["grpc-message"] = Uri.EscapeDataString(message);
    }
}
