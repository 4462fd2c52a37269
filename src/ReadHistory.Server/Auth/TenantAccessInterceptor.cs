using Grpc.Core;
using Grpc.Core.Interceptors;
using ReadHistory.Api.V1;
using ReadHistory.Server.Proxy;

namespace ReadHistory.Server.Auth;

/// <summary>
/// The access rules of the public API with API keys or client certificates, on the identity ASP.NET Core's
/// authentication gave the call (<see cref="ConnectionAuthenticationMiddleware"/>): no identity is UNAUTHENTICATED; a
/// method outside the credential's scopes (<see cref="ApiScopes.For"/>) is PERMISSION_DENIED naming the scope; an empty
/// tenant is the credential's default tenant (written into the request, so routing and pools see it), and every tenant
/// a call names, each BatchCheck entry's and each Ingest message's included, must be one the credential holds;
/// otherwise PERMISSION_DENIED, naming neither the key nor its tenants. Runs before admission, so a refused call costs no
/// admission slot.
/// </summary>
/// <remarks>
/// The scope is checked here, not by ASP.NET Core's authorization middleware and one policy per scope as before: that
/// middleware's per-call work (a policy evaluation, an authorization context, its tasks) was a measurable share of the
/// cost of authentication on the hit path (bench/RESULTS.md, "Security"), for a set lookup.
/// </remarks>
internal sealed class TenantAccessInterceptor : Interceptor
{
    private static readonly Status Denied = new(StatusCode.PermissionDenied, "the API key or certificate does not grant the tenant of this call");
    private static readonly Status Unauthenticated = new(StatusCode.Unauthenticated, "the call needs a valid API key (metadata authorization: Bearer <key>) or client certificate");

    /// <inheritdoc />
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        Admit(request, Identity(context));
        return continuation(request, context);
    }

    /// <inheritdoc />
    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        return continuation(new AdmittedReader<TRequest>(requestStream, Identity(context)), context);
    }

    /// <summary>Applies the rule to one request message; throws PERMISSION_DENIED past it.</summary>
    internal static void Admit(object? request, CallerIdentity key)
    {
        switch (request)
        {
            case CheckRequest check:
                check.Tenant = Resolve(check.Tenant, key);
                break;
            case MarkReadRequest mark:
                mark.Tenant = Resolve(mark.Tenant, key);
                break;
            case ForgetUserRequest forget:
                forget.Tenant = Resolve(forget.Tenant, key);
                break;
            case IngestRequest { Batch: { } batch }:
                batch.Tenant = Resolve(batch.Tenant, key);
                break;
            case BatchCheckRequest batch:
                batch.Tenant = Resolve(batch.Tenant, key);
                foreach (var entry in batch.Requests)
                {
                    Resolve(entry.Tenant.Length > 0 ? entry.Tenant : batch.Tenant, key);
                }

                break;
            case ForwardedRequest forwarded:
                forwarded.Tenant = Resolve(forwarded.Tenant, key);
                break;
            case ForwardedBatch forwarded:
                forwarded.Tenant = Resolve(forwarded.Tenant, key);
                for (var i = 0; i < forwarded.Count; i++)
                {
                    Resolve(forwarded.TenantOf(i), key);
                }

                break;
        }
    }

    private static string Resolve(string tenant, CallerIdentity key)
    {
        if (tenant.Length == 0)
        {
            return key.DefaultTenant;
        }

        return key.Holds(tenant) ? tenant : throw new RpcException(Denied);
    }

    // The caller's identity, once its scope is checked against the method's.
    private static CallerIdentity Identity(ServerCallContext context)
    {
        if (context.GetHttpContext().User.Identity is not CallerIdentity { IsAuthenticated: true } identity)
        {
            throw new RpcException(Unauthenticated);
        }

        var method = context.Method.AsSpan(context.Method.LastIndexOf('/') + 1);
        var scope = ApiScopes.For(method);
        return identity.Grants(scope)
            ? identity
            : throw new RpcException(new Status(StatusCode.PermissionDenied, "the API key or certificate does not grant the '" + scope + "' scope this method needs"));
    }

    private sealed class AdmittedReader<T>(IAsyncStreamReader<T> inner, CallerIdentity key) : IAsyncStreamReader<T>
    {
        public T Current => inner.Current;

        public async Task<bool> MoveNext(CancellationToken cancellationToken)
        {
            if (!await inner.MoveNext(cancellationToken).ConfigureAwait(false))
            {
                return false;
            }

            Admit(inner.Current, key);
            return true;
        }
    }
}
