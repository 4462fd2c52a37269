using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ReadHistory.TestSupport;

/// <summary>
/// A throwaway certificate authority for tests of TLS and mutual TLS: a self-signed CA and the leaf certificates it
/// issues, written as PEM files (certificate, PKCS#8 key, CA) to a private temporary folder, deleted on dispose.
/// Leaves name localhost, 127.0.0.1 and ::1 and are good for server and client authentication, so one leaf serves a
/// cache node's internal port and the proxy that calls it. ECDSA P-256 keys: fast to make (a test makes several).
/// </summary>
public sealed class TestCertificateAuthority : IDisposable
{
    private static readonly Oid ServerAuth = new("1.3.6.1.5.5.7.3.1");
    private static readonly Oid ClientAuth = new("1.3.6.1.5.5.7.3.2");
    private readonly ECDsa _key;
    private int _issued;

    private TestCertificateAuthority(string name, string folder)
    {
        Folder = folder;
        _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + name, _key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        Certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        CaPath = Path.Combine(folder, "ca.crt");
        File.WriteAllText(CaPath, Certificate.ExportCertificatePem());
    }

    /// <summary>The folder the PEM files are in.</summary>
    public string Folder { get; }

    /// <summary>The CA certificate (public part).</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The CA certificate as a PEM file: what a process trusts (InternalTls:CaPath).</summary>
    public string CaPath { get; }

    /// <summary>A new CA in a new temporary folder.</summary>
    public static TestCertificateAuthority Create(string name = "readhistory-test-ca")
    {
        var folder = Path.Combine(Path.GetTempPath(), "readhistory-tests", "certs-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        return new TestCertificateAuthority(name, folder);
    }

    /// <summary>
    /// Issues a leaf certificate for <paramref name="subject"/> (CN), written as PEM certificate and key files; it names
    /// the loopback addresses and <paramref name="addresses"/> (a server listening elsewhere, e.g. in a network namespace).
    /// </summary>
    public TestCertificate Issue(string subject, params string[] addresses)
    {
        ArgumentException.ThrowIfNullOrEmpty(subject);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + subject, key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        foreach (var address in addresses)
        {
            names.AddIpAddress(IPAddress.Parse(address));
        }
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([ServerAuth, ClientAuth], critical: false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Certificate, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        var serial = new byte[16];
        RandomNumberGenerator.Fill(serial);
        serial[0] &= 0x7f;
        using var issued = request.Create(Certificate.SubjectName, X509SignatureGenerator.CreateForECDsa(_key), DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(7), serial);
        var number = Interlocked.Increment(ref _issued);
        var certificatePath = Path.Combine(Folder, $"{number}-{subject}.crt");
        var keyPath = Path.Combine(Folder, $"{number}-{subject}.key");
        File.WriteAllText(certificatePath, issued.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return new TestCertificate(certificatePath, keyPath, X509Certificate2.CreateFromPemFile(certificatePath, keyPath));
    }

    /// <summary>The settings that turn on mutual TLS on the internal port with <paramref name="leaf"/> (ReadHistory:InternalTls), as configuration keys.</summary>
    public Dictionary<string, string?> InternalTlsSettings(TestCertificate leaf)
    {
        ArgumentNullException.ThrowIfNull(leaf);
        return new()
        {
            ["ReadHistory:InternalTls:CertificatePath"] = leaf.CertificatePath,
            ["ReadHistory:InternalTls:KeyPath"] = leaf.KeyPath,
            ["ReadHistory:InternalTls:CaPath"] = CaPath,
        };
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Certificate.Dispose();
        _key.Dispose();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // A process still reading a file: the temporary folder is left to the system.
        }
    }
}
