namespace ReadHistory.Server.Cdc;

/// <summary>
/// Redis, which carries the per-slot change streams and the CDC lease, under ReadHistory:Redis (in the CDC room: the
/// streams are what Redis is for here; coherence reads them through this room). Defaults live in appsettings.json.
/// </summary>
internal sealed class RedisOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "ReadHistory:Redis";

    /// <summary>
    /// StackExchange.Redis configuration string (host:port[,host:port…][,options]; several nodes of a Redis Cluster,
    /// whose hash-slot map the client then learns); empty = no Redis: no change streams, so no CDC role and no
    /// coherence between replicas (a single cache node per slot still answers correctly on its own writes).
    /// </summary>
    public string Configuration { get; set; } = string.Empty;

    /// <summary>Whether a Redis is configured.</summary>
    public bool IsConfigured => !string.IsNullOrWhiteSpace(Configuration);

    /// <summary>Prefix of every key this service writes, so several deployments can share one Redis.</summary>
    public string KeyPrefix { get; set; } = string.Empty;

    /// <summary>
    /// The AUTH password (of the ACL user the configuration string names with user=), set apart from
    /// <see cref="Configuration"/> so that the string can live in a ConfigMap and the password in a Secret; empty =
    /// the string's own password=, if any.
    /// </summary>
    public string Password { get; set; } = string.Empty;

    /// <summary>The CA (PEM or DER) a TLS Redis's certificate must chain to (ssl=true in the configuration string); empty = the machine's trust store.</summary>
    public string CaPath { get; set; } = string.Empty;

    /// <summary>Adds a problem per bad key.</summary>
    public void Validate(List<string> problems)
    {
        if (KeyPrefix.Length is < 1 or > 32 || KeyPrefix.Any(static c => char.IsWhiteSpace(c) || c is '{' or '}'))
        {
            problems.Add($"{Section}:KeyPrefix: '{KeyPrefix}' must be 1-32 characters without spaces or braces");
        }

        if (CaPath.Length > 0 && !File.Exists(CaPath))
        {
            problems.Add($"{Section}:CaPath: file '{CaPath}' does not exist");
        }
    }
}
