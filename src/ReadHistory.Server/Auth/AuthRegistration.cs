using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Certificate;
using Microsoft.Extensions.Options;

namespace ReadHistory.Server.Auth;

/// <summary>Wires authentication into a host: the API-key and client-certificate schemes, the key ring, the access rules (<see cref="TenantAccessInterceptor"/>).</summary>
internal static class AuthRegistration
{
    /// <summary>Registers ASP.NET Core authentication (bearer API keys, client certificates) and the interceptor that applies scopes and tenants.</summary>
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

        services.AddSingleton<TenantAccessInterceptor>();
        return services;
    }
}
