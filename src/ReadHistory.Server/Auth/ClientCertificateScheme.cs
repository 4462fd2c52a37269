using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Authentication.Certificate;
using Microsoft.Net.Http.Headers;

namespace ReadHistory.Server.Auth;

/// <summary>
/// Client certificates as the public API's second scheme, over ASP.NET Core's certificate authentication: a certificate
/// the TLS handshake carried must chain to Auth:ClientCaPath (that CA only, within its validity, client-auth use), and
/// its SHA-256 thumbprint must be one of Auth:Certificates (<see cref="ApiKeyRing"/>, reloaded with the keys); it then
/// authenticates as a <see cref="CallerIdentity"/> with the tenants and scopes configured for it, as an API key does.
/// </summary>
/// <remarks>
/// No validation cache (AddCertificateCache): a cached success would outlive the certificate's removal from
/// Auth:Certificates; the chain is built once per call instead.
/// </remarks>
internal static class ClientCertificateScheme
{
    /// <summary>The scheme name.</summary>
    public const string Name = "ClientCertificate";

    /// <summary>The scheme that picks one of the two per call (<see cref="Select"/>); the default scheme of the host.</summary>
    public const string SelectorName = "ApiKeyOrClientCertificate";

    /// <summary>
    /// The scheme of a call: a call with an authorization header is judged by its key (even on a connection with a client
    /// certificate: the key is the more specific credential); otherwise a call on a connection with a client
    /// certificate by the certificate; otherwise by the key scheme, which finds none (UNAUTHENTICATED).
    /// </summary>
    public static string Select(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Request.Headers.ContainsKey(HeaderNames.Authorization) || context.Connection.ClientCertificate is null
            ? ApiKeyAuthenticationHandler.SchemeName
            : Name;
    }

    /// <summary>Sets the package's options: custom root trust in the CA at <paramref name="caPath"/>, no revocation check, the mapping to a principal.</summary>
    public static void Configure(CertificateAuthenticationOptions options, string caPath)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.AllowedCertificateTypes = CertificateTypes.Chained;
        options.ChainTrustValidationMode = X509ChainTrustMode.CustomRootTrust;
        if (caPath.Length > 0)
        {
            options.CustomTrustStore.ImportFromPemFile(caPath);
        }

        // A tenant's certificate is revoked by removing its thumbprint from Auth:Certificates (docs/operations.md).
        options.RevocationMode = X509RevocationMode.NoCheck;
        options.ValidateCertificateUse = true;
        options.ValidateValidityPeriod = true;
        options.Events = new CertificateAuthenticationEvents
        {
            OnCertificateValidated = static context =>
            {
                var principal = context.HttpContext.RequestServices.GetRequiredService<ApiKeyRing>().FindCertificate(context.ClientCertificate);
                if (principal is null)
                {
                    context.Fail("the client certificate is not in force");
                }
                else
                {
                    context.Principal = principal;
                    context.Success();
                }

                return Task.CompletedTask;
            },
        };
    }
}
