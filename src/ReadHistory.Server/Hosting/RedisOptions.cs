namespace ReadHistory.Server.Hosting;

/// <summary>Redis, which carries the per-slot change streams and the CDC lease, under ReadHistory:Redis.</summary>
internal sealed class RedisOptions
{
    /// <summary>StackExchange.Redis configuration string (host:port[,options]).</summary>
    public string Configuration { get; set; } = "127.0.0.1:16379";

    /// <summary>Prefix of every key this service writes, so several deployments can share one Redis.</summary>
    public string KeyPrefix { get; set; } = "rh";

    /// <summary>Adds a problem per bad key.</summary>
    public void Validate(List<string> problems)
    {
        if (string.IsNullOrWhiteSpace(Configuration))
        {
            problems.Add("ReadHistory:Redis:Configuration: empty");
        }

        if (KeyPrefix.Length is < 1 or > 32 || KeyPrefix.Any(static c => char.IsWhiteSpace(c) || c is '{' or '}'))
        {
            problems.Add($"ReadHistory:Redis:KeyPrefix: '{KeyPrefix}' must be 1-32 characters without spaces or braces");
        }
    }
}
