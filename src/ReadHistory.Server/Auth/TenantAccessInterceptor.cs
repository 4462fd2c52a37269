using Grpc.Core;
using Grpc.Core.Interceptors;
using ReadHistory.Api.V1;
using ReadHistory.Server.Proxy;

namespace ReadHistory.Server.Auth;

/// <summary>
/// The tenant rule of the public API with API keys: an empty tenant is the key's default tenant (written into the
/// request, so routing and pools see it), and every tenant a call names, each BatchCheck entry's and each Ingest
/// message's included, must be one the key holds; otherwise PERMISSION_DENIED, naming neither the key nor its tenants.
/// Runs after authentication and the scope policy, before admission, so a refused call costs no admission slot.
/// </summary>
internal sealed class TenantAccessInterceptor : Interceptor
{
    private static readonly Status Denied = new(StatusCode.PermissionDenied, "the API key or certificate does not grant the tenant of this call");

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

    // The scope policy has already authenticated the call; a call without a key identity here is a wiring mistake.
    private static CallerIdentity Identity(ServerCallContext context) =>
        context.GetHttpContext().User.Identity as CallerIdentity
            ?? throw new RpcException(new Status(StatusCode.Unauthenticated, "the call needs a valid API key or client certificate"));

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
