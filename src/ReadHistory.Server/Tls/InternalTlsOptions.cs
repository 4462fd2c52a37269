namespace ReadHistory.Server.Tls;

/// <summary>
/// Mutual TLS on the internal port, under ReadHistory:InternalTls (docs/operations.md, "Certificates"). Empty paths
/// (the default) leave the internal port on cleartext HTTP/2; set, all three together, the internal listener serves
/// TLS and requires a client certificate chained to <see cref="CaPath"/>, and every internal client (proxy → node,
/// warm start, peer fan-out) presents this certificate and accepts only a server chained to the same CA. Read at start.
/// </summary>
internal sealed class InternalTlsOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "ReadHistory:InternalTls";

    /// <summary>This process's certificate, PEM (the leaf first; intermediates may follow): served by a cache node, presented by every internal client.</summary>
    public string CertificatePath { get; set; } = string.Empty;

    /// <summary>The certificate's private key, PEM (PKCS#8, or PKCS#1 / SEC1).</summary>
    public string KeyPath { get; set; } = string.Empty;

    /// <summary>The internal CA, PEM (one or more certificates): the only roots a peer's certificate may chain to.</summary>
    public string CaPath { get; set; } = string.Empty;

    /// <summary>Whether mutual TLS is configured.</summary>
    public bool Enabled => CertificatePath.Length > 0;

    /// <summary>Adds a problem per bad key.</summary>
    public void Validate(List<string> problems)
    {
        ArgumentNullException.ThrowIfNull(problems);
        var set = (CertificatePath.Length > 0 ? 1 : 0) + (KeyPath.Length > 0 ? 1 : 0) + (CaPath.Length > 0 ? 1 : 0);
        if (set is not (0 or 3))
        {
            problems.Add($"{Section}: CertificatePath, KeyPath and CaPath are set together or not at all");
            return;
        }

        foreach (var (key, path) in (ReadOnlySpan<(string, string)>)[("CertificatePath", CertificatePath), ("KeyPath", KeyPath), ("CaPath", CaPath)])
        {
            if (path.Length > 0 && !File.Exists(path))
            {
                problems.Add($"{Section}:{key}: file '{path}' does not exist");
            }
        }
    }
}
