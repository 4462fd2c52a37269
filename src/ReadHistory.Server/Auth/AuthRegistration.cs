using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Certificate;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Infrastructure;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace ReadHistory.Server.Auth;

/// <summary>Wires authentication into a host: the API-key and client-certificate schemes, one authorization policy per scope, gRPC refusals, the key ring.</summary>
internal static class AuthRegistration
{
    /// <summary>Registers ASP.NET Core authentication (bearer API keys, client certificates) and authorization (a policy per scope).</summary>
    public static IServiceCollection AddApiKeyAuthentication(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(provider => new ApiKeyRing(
            provider.GetRequiredService<IOptions<AuthOptions>>().Value,
            configuration,
            provider.GetRequiredService<ILoggerFactory>().CreateLogger("ReadHistory.Auth")));
        // With Auth:ClientCaPath, two schemes, one picked per call (ClientCertificateScheme.Select): bearer API keys and
        // client certificates. Without it the key scheme alone, as the default: no selector hop on every call.
        var withCertificates = !string.IsNullOrEmpty(configuration[AuthOptions.Section + ":ClientCaPath"]);
        var authentication = services.AddAuthentication(withCertificates ? ClientCertificateScheme.SelectorName : ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, configureOptions: null);
        if (withCertificates)
        {
            authentication
                .AddPolicyScheme(ClientCertificateScheme.SelectorName, displayName: null, static options => options.ForwardDefaultSelector = ClientCertificateScheme.Select)
                .AddCertificate(ClientCertificateScheme.Name);
            services.AddOptions<CertificateAuthenticationOptions>(ClientCertificateScheme.Name)
                .Configure<IOptions<AuthOptions>>(static (options, auth) => ClientCertificateScheme.Configure(options, auth.Value.ClientCaPath));
        }

        // The authorization services are stateless but registered transient by AddAuthorization, so every call built the
        // policy evaluator, the authorization service and its providers anew; as singletons they are built once
        // (AddAuthorization adds them with TryAdd, so these stand). Measured: bench/RESULTS.md, "Security".
        services.TryAddSingleton<IPolicyEvaluator, PolicyEvaluator>();
        services.TryAddSingleton<IAuthorizationService, DefaultAuthorizationService>();
        services.TryAddSingleton<IAuthorizationPolicyProvider, DefaultAuthorizationPolicyProvider>();
        services.TryAddSingleton<IAuthorizationHandlerProvider, DefaultAuthorizationHandlerProvider>();
        services.TryAddSingleton<IAuthorizationEvaluator, DefaultAuthorizationEvaluator>();
        services.TryAddSingleton<IAuthorizationHandlerContextFactory, DefaultAuthorizationHandlerContextFactory>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IAuthorizationHandler, PassThroughAuthorizationHandler>());
        services.AddAuthorization(static options =>
        {
            foreach (var scope in ApiScopes.All.Append(ApiScopes.Unlisted))
            {
                options.AddPolicy(scope, policy => policy.RequireAuthenticatedUser().RequireClaim(CallerIdentity.ScopeClaim, scope));
            }
        });
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, GrpcAuthorizationResultHandler>();
        services.AddSingleton<TenantAccessInterceptor>();
        return services;
    }

    /// <summary>
    /// Requires, on each method endpoint of a public service, the scope its method needs (<see cref="ApiScopes.For"/>):
    /// one table for the generated service and the forwarding one alike.
    /// </summary>
    public static TBuilder RequireApiScopes<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Add(static endpoint =>
        {
            // Method endpoints only: Grpc.AspNetCore's UNIMPLEMENTED catch-alls (routes with parameters) stay open.
            if (endpoint is RouteEndpointBuilder { RoutePattern.Parameters.Count: 0 }
                && endpoint.Metadata.OfType<GrpcMethodMetadata>().FirstOrDefault() is { } method)
            {
                endpoint.Metadata.Add(new AuthorizeAttribute(ApiScopes.For(method.Method.Name)));
            }
        });
        return builder;
    }
}
