using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace ReadHistory.Server.Hosting;

/// <summary>
/// The process's own settings, the top-level keys of the "ReadHistory" section (appsettings.json, ReadHistory__
/// environment variables, --flags). Each room owns the options of its subsection (Storage: Database, Cache: Cache,
/// Cdc: Cdc and Redis, Topology: Topology, Proxy: Proxy, Api: Limits); <see cref="ServerOptionsRegistration"/> binds
/// and validates them all once at start. Defaults live in appsettings.json only (<see cref="NodeName"/> excepted: it
/// comes from the machine).
/// </summary>
internal sealed class ServerOptions
{
    /// <summary>The configuration section name.</summary>
    public const string Section = "ReadHistory";

    /// <summary>Roles this process runs: "all" or a list of proxy, cache, cdc.</summary>
    public string Roles { get; set; } = string.Empty;

    /// <summary>Where gRPC is served (h2c unless a certificate is set), host:port.</summary>
    public string GrpcListen { get; set; } = string.Empty;

    /// <summary>
    /// Where a process with the cache role serves the internal CacheNode API (and health, for the proxies' probes),
    /// host:port: the address proxies and peers name in the topology. Never served on <see cref="GrpcListen"/>.
    /// </summary>
    public string InternalGrpcListen { get; set; } = string.Empty;

    /// <summary>Where HTTP (metrics, health) is served, host:port.</summary>
    public string HttpListen { get; set; } = string.Empty;

    /// <summary>A certificate turning gRPC to TLS: a PFX file, or a PEM file with <see cref="TlsKeyPath"/>; empty = cleartext HTTP/2.</summary>
    public string TlsCertificatePath { get; set; } = string.Empty;

    /// <summary>The password of the PFX certificate.</summary>
    public string TlsCertificatePassword { get; set; } = string.Empty;

    /// <summary>The PEM private key of a PEM <see cref="TlsCertificatePath"/> (a Kubernetes TLS Secret's tls.key); empty = the certificate is a PFX file.</summary>
    public string TlsKeyPath { get; set; } = string.Empty;

    /// <summary>Largest gRPC message accepted, bytes.</summary>
    public int MaxReceiveMessageBytes { get; set; }

    /// <summary>How long SIGTERM waits for in-flight calls before stopping.</summary>
    public TimeSpan ShutdownGrace { get; set; }

    /// <summary>This node's name (absent: the HOSTNAME environment variable, else the machine name); a cache node takes its slot from its trailing ordinal.</summary>
    public string NodeName { get; set; } = Environment.GetEnvironmentVariable("HOSTNAME") ?? Environment.MachineName;

    /// <summary>Adds a problem per bad key (the roles are checked where they are parsed, see <see cref="ServerRolesParser"/>).</summary>
    public void Validate(List<string> problems)
    {
        ArgumentNullException.ThrowIfNull(problems);
        CheckEndPoint(GrpcListen, "GrpcListen", problems);
        CheckEndPoint(InternalGrpcListen, "InternalGrpcListen", problems);
        CheckEndPoint(HttpListen, "HttpListen", problems);
        if (SamePort(GrpcListen, InternalGrpcListen))
        {
            problems.Add($"{Section}:InternalGrpcListen: '{InternalGrpcListen}' is the public GrpcListen's port: the internal API needs a port of its own");
        }
        if (TlsCertificatePath.Length > 0 && !File.Exists(TlsCertificatePath))
        {
            problems.Add($"{Section}:TlsCertificatePath: file '{TlsCertificatePath}' does not exist");
        }

        if (TlsKeyPath.Length > 0 && (TlsCertificatePath.Length == 0 || !File.Exists(TlsKeyPath)))
        {
            problems.Add($"{Section}:TlsKeyPath: '{TlsKeyPath}' needs a TlsCertificatePath and must exist");
        }

        if (MaxReceiveMessageBytes is < 1024 or > 64 * 1024 * 1024)
        {
            problems.Add($"{Section}:MaxReceiveMessageBytes: {MaxReceiveMessageBytes} is outside 1 KiB .. 64 MiB");
        }

        if (ShutdownGrace < TimeSpan.Zero || ShutdownGrace > TimeSpan.FromMinutes(10))
        {
            problems.Add($"{Section}:ShutdownGrace: {ShutdownGrace} is outside 0 .. 10 minutes");
        }
    }

    /// <summary>Loads the public listener's certificate (null: cleartext): PEM with <see cref="TlsKeyPath"/>, else PFX.</summary>
    public X509Certificate2? LoadCertificate() =>
        TlsCertificatePath.Length == 0 ? null
        : TlsKeyPath.Length > 0 ? X509Certificate2.CreateFromPemFile(TlsCertificatePath, TlsKeyPath)
        : X509CertificateLoader.LoadPkcs12FromFile(TlsCertificatePath, TlsCertificatePassword);

    /// <summary>Whether <see cref="GrpcListen"/> is a loopback address (false when it does not parse: validation names it).</summary>
    public bool PublicIsLoopback()
    {
        try
        {
            return IPAddress.IsLoopback(ParseEndPoint(GrpcListen).Address);
        }
        catch (FormatException)
        {
            return true;
        }
    }

    /// <summary>Parses host:port into an endpoint (host must be an IP address, "localhost" or "*").</summary>
    public static IPEndPoint ParseEndPoint(string text)
    {
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), out var port) || port is < 0 or > 65535)
        {
            throw new FormatException($"'{text}' is not host:port");
        }

        var host = text[..colon].Trim('[', ']');
        var address = host switch
        {
            "*" or "0.0.0.0" => IPAddress.Any,
            "localhost" => IPAddress.Loopback,
            _ => IPAddress.TryParse(host, out var parsed) ? parsed : throw new FormatException($"'{host}' is not an IP address"),
        };
        return new IPEndPoint(address, port);
    }

    // Two listeners on one fixed port (port 0 picks a free port each time).
    private static bool SamePort(string a, string b)
    {
        try
        {
            var first = ParseEndPoint(a);
            var second = ParseEndPoint(b);
            return first.Port != 0 && first.Port == second.Port;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static void CheckEndPoint(string text, string key, List<string> problems)
    {
        try
        {
            ParseEndPoint(text);
        }
        catch (FormatException e)
        {
            problems.Add($"{Section}:{key}: {e.Message}");
        }
    }
}
