using System.Security.Cryptography.X509Certificates;

namespace ReadHistory.TestSupport;

/// <summary>A leaf certificate issued by a <see cref="TestCertificateAuthority"/>: its PEM files and the loaded certificate with its key.</summary>
/// <param name="CertificatePath">The certificate, PEM.</param>
/// <param name="KeyPath">Its private key, PKCS#8 PEM.</param>
/// <param name="Certificate">The certificate with its private key.</param>
public sealed record TestCertificate(string CertificatePath, string KeyPath, X509Certificate2 Certificate);
