using System.Net;
using ReadHistory.Server.Api;

namespace ReadHistory.Server.Hosting;

/// <summary>The service's configuration, bound from the "ReadHistory" section (appsettings.json, READHISTORY__ environment variables, --flags).</summary>
internal sealed class ReadHistoryOptions
{
    /// <summary>The configuration section name.</summary>
    public const string Section = "ReadHistory";

    /// <summary>Roles this process runs: "all" or a list of proxy, cache, cdc.</summary>
    public string Roles { get; set; } = "all";

    /// <summary>Where gRPC is served (h2c unless a certificate is set), host:port.</summary>
    public string GrpcListen { get; set; } = "127.0.0.1:50051";

    /// <summary>Where HTTP (metrics, health) is served, host:port.</summary>
    public string HttpListen { get; set; } = "127.0.0.1:8080";

    /// <summary>A PFX certificate turning gRPC to TLS; empty = cleartext HTTP/2.</summary>
    public string TlsCertificatePath { get; set; } = string.Empty;

    /// <summary>The password of the PFX certificate.</summary>
    public string TlsCertificatePassword { get; set; } = string.Empty;

    /// <summary>Largest gRPC message accepted, bytes.</summary>
    public int MaxReceiveMessageBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>How long SIGTERM waits for in-flight calls before stopping.</summary>
    public TimeSpan ShutdownGrace { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Request limits of the public API.</summary>
    public RequestLimits Limits { get; set; } = new();

    /// <summary>The database (the only strong state).</summary>
    public DatabaseOptions Database { get; set; } = new();

    /// <summary>This node's name (default: the HOSTNAME environment variable); a cache node takes its slot from its trailing ordinal.</summary>
    public string NodeName { get; set; } = Environment.GetEnvironmentVariable("HOSTNAME") ?? Environment.MachineName;

    /// <summary>The CDC role and the change-stream readers.</summary>
    public Cdc.CdcOptions Cdc { get; set; } = new();

    /// <summary>The cache role.</summary>
    public CacheNodeOptions Cache { get; set; } = new();

    /// <summary>Redis (change streams, CDC lease).</summary>
    public RedisOptions Redis { get; set; } = new();

    /// <summary>Cache pools, slots and replicas.</summary>
    public TopologyOptions Topology { get; set; } = new();

    /// <summary>Checks everything and returns every problem found, each naming its key.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        try
        {
            // "all" without Redis is a single node without change streams; naming cdc explicitly needs Redis.
            ServerRolesParser.Parse(Roles);
            if (Roles.Contains("cdc", StringComparison.OrdinalIgnoreCase) && !Redis.IsConfigured)
            {
                problems.Add($"{Section}:Redis:Configuration: the cdc role publishes to Redis streams; set a Redis configuration");
            }
        }
        catch (FormatException e)
        {
            problems.Add($"{Section}:Roles: {e.Message}");
        }

        CheckEndPoint(GrpcListen, "GrpcListen", problems);
        CheckEndPoint(HttpListen, "HttpListen", problems);
        if (TlsCertificatePath.Length > 0 && !File.Exists(TlsCertificatePath))
        {
            problems.Add($"{Section}:TlsCertificatePath: file '{TlsCertificatePath}' does not exist");
        }

        if (MaxReceiveMessageBytes is < 1024 or > 64 * 1024 * 1024)
        {
            problems.Add($"{Section}:MaxReceiveMessageBytes: {MaxReceiveMessageBytes} is outside 1 KiB .. 64 MiB");
        }

        if (ShutdownGrace < TimeSpan.Zero || ShutdownGrace > TimeSpan.FromMinutes(10))
        {
            problems.Add($"{Section}:ShutdownGrace: {ShutdownGrace} is outside 0 .. 10 minutes");
        }

        if (Limits.MaxIdsPerCall is < 1 or > 1_000_000)
        {
            problems.Add($"{Section}:Limits:MaxIdsPerCall: {Limits.MaxIdsPerCall} is outside 1 .. 1,000,000");
        }

        if (Limits.MaxBatchUsers is < 1 or > 100_000)
        {
            problems.Add($"{Section}:Limits:MaxBatchUsers: {Limits.MaxBatchUsers} is outside 1 .. 100,000");
        }

        Database.Validate(problems);
        Topology.Validate(problems);
        Cache.Validate(problems);
        Redis.Validate(problems);
        Cdc.Validate(problems);
        return problems;
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
