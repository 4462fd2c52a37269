namespace ReadHistory.LoadGen.Targets;

/// <summary>Where the targets live.</summary>
internal sealed record TargetOptions
{
    /// <summary>gRPC endpoint of the public API (proxy or role all).</summary>
    public Uri Endpoint { get; init; } = new("http://127.0.0.1:50051");

    /// <summary>gRPC endpoint of one cache node's internal API (service-direct, and CacheNode.Stats for memory); null = <see cref="Endpoint"/>.</summary>
    public Uri? NodeEndpoint { get; init; }

    /// <summary>API key for the public API (service target), sent as <c>authorization: Bearer</c>; null = anonymous.</summary>
    public string? Token { get; init; }

    /// <summary>Prometheus text endpoint of the service (readhistory_cache_bytes).</summary>
    public Uri? MetricsUrl { get; init; } = new("http://127.0.0.1:8080/metrics");

    /// <summary>Client deadline per call.</summary>
    public TimeSpan Deadline { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>gRPC channels (HTTP/2 connections) the service client spreads calls over.</summary>
    public int Channels { get; init; } = 4;

    /// <summary>MySqlConnector-style connection string of the database (no database name).</summary>
    public string Database { get; init; } = "Server=127.0.0.1;Port=13306;User ID=readhistory;Password=readhistory;SslMode=None";

    /// <summary>History database prefix (<c>{prefix}_{d}</c>.<c>reads_{t}</c>).</summary>
    public string DatabasePrefix { get; init; } = "readhistory";

    /// <summary>Databases D.</summary>
    public int Databases { get; init; } = 1;

    /// <summary>Tables per database T.</summary>
    public int TablesPerDatabase { get; init; } = 1;

    /// <summary>Redis endpoint for the Redis peers.</summary>
    public string Redis { get; init; } = "127.0.0.1:16379";

    /// <summary>How redis-set probes 400 members: <c>script</c> (SMISMEMBER in one EVAL) or <c>pipeline</c> (SISMEMBER each, pipelined).</summary>
    public string RedisSetProbe { get; init; } = "script";

    /// <summary>Target false-positive rate of the Redis Bloom peer.</summary>
    public double BloomFalsePositiveRate { get; init; } = 0.01;
}
