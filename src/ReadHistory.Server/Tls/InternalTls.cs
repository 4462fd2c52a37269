using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace ReadHistory.Server.Tls;

/// <summary>
/// The internal port's mutual TLS, loaded once from <see cref="InternalTlsOptions"/>: the node's side (serve the
/// certificate, require a client certificate chained to the internal CA) and the client's side (present the
/// certificate, accept only a server chained to the internal CA whose name matches the address). Both sides trust the
/// configured CA alone (<see cref="X509ChainTrustMode.CustomRootTrust"/>), never the machine's store.
/// <see cref="Off"/> (not configured) leaves both sides on cleartext HTTP/2.
/// </summary>
internal sealed class InternalTls : IDisposable
{
    private readonly X509Certificate2? _certificate;
    private readonly X509Certificate2Collection _intermediates;
    private readonly X509Certificate2Collection _roots;
    private readonly SslStreamCertificateContext? _context;

    private InternalTls(X509Certificate2? certificate, X509Certificate2Collection intermediates, X509Certificate2Collection roots)
    {
        _certificate = certificate;
        _intermediates = intermediates;
        _roots = roots;
        _context = certificate is null ? null : SslStreamCertificateContext.Create(certificate, intermediates, offline: true);
    }

    /// <summary>No TLS on the internal port (InternalTls not configured).</summary>
    public static InternalTls Off { get; } = new(null, [], []);

    /// <summary>Whether the internal port and its clients use mutual TLS.</summary>
    public bool Enabled => _certificate is not null;

    /// <summary>The URI scheme of an internal address: https with mutual TLS, http (h2c) without.</summary>
    public string Scheme => Enabled ? Uri.UriSchemeHttps : Uri.UriSchemeHttp;

    /// <summary>Loads the certificate, its key and the CA (<see cref="Off"/> when <paramref name="options"/> are not set).</summary>
    public static InternalTls Load(InternalTlsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.Enabled)
        {
            return Off;
        }

        var certificate = X509Certificate2.CreateFromPemFile(options.CertificatePath, options.KeyPath);
        var chain = new X509Certificate2Collection();
        chain.ImportFromPemFile(options.CertificatePath);
        var intermediates = new X509Certificate2Collection();
        foreach (var extra in chain.Skip(1))
        {
            intermediates.Add(extra);
        }

        var roots = new X509Certificate2Collection();
        roots.ImportFromPemFile(options.CaPath);
        if (roots.Count == 0)
        {
            throw new InvalidOperationException($"{InternalTlsOptions.Section}:CaPath: '{options.CaPath}' holds no PEM certificate");
        }

        return new InternalTls(certificate, intermediates, roots);
    }

    /// <summary>The node's side of a listener: serve the certificate, require a client certificate chained to the CA.</summary>
    public void ConfigureServer(HttpsConnectionAdapterOptions https)
    {
        ArgumentNullException.ThrowIfNull(https);
        https.ServerCertificate = _certificate ?? throw new InvalidOperationException("internal TLS is off");
        https.ServerCertificateChain = _intermediates;
        https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
        // SslStream judged the client against the machine's store; only the internal CA counts here.
        https.ClientCertificateValidation = (certificate, _, _) => ChainsToCa(certificate);
    }

    /// <summary>The client's side of an internal channel's handler: present the certificate, accept only a server chained to the CA (nothing without TLS).</summary>
    public void ConfigureClient(SocketsHttpHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        if (_context is null)
        {
            return;
        }

        handler.SslOptions.ClientCertificateContext = _context;
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            certificate is X509Certificate2 presented
            && (errors & SslPolicyErrors.RemoteCertificateNameMismatch) == 0
            && ChainsToCa(presented);
    }

    /// <summary>Whether <paramref name="certificate"/> chains to the internal CA (intermediates from the configured chain), within its validity.</summary>
    public bool ChainsToCa(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(_roots);
        chain.ChainPolicy.ExtraStore.AddRange(_intermediates);
        // An internal CA publishes no revocation list: a certificate is revoked by rotating the CA or letting it expire
        // (docs/operations.md, "Certificates").
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (ReferenceEquals(this, Off))
        {
            return;
        }

        _certificate?.Dispose();
        foreach (var certificate in _intermediates.Concat(_roots))
        {
            certificate.Dispose();
        }
    }
}
