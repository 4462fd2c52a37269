using ReadHistory.TestSupport;

namespace ReadHistory.Benchmarks.Shared;

/// <summary>
/// The Redis a benchmark runs against, chosen by <c>--redis single|cluster</c>: one private server, or a private Redis
/// Cluster of three masters and three replicas on loopback (the test fixture's). Either way a StackExchange.Redis
/// configuration string.
/// </summary>
internal sealed class BenchRedis : IAsyncDisposable
{
    private readonly RedisServer? _single;
    private readonly RedisCluster? _cluster;

    private BenchRedis(RedisServer? single, RedisCluster? cluster)
    {
        _single = single;
        _cluster = cluster;
    }

    /// <summary>True for a Redis Cluster.</summary>
    public bool IsCluster => _cluster is not null;

    /// <summary>"single" or "cluster (3 masters + 3 replicas)".</summary>
    public string Name => IsCluster ? "cluster (3 masters + 3 replicas)" : "single";

    /// <summary>The configuration string: the one endpoint, or every node of the cluster.</summary>
    public string Configuration => _cluster?.Configuration ?? _single!.Endpoint;

    /// <summary>Starts what <c>--redis</c> names in <paramref name="args"/> (default single).</summary>
    public static async Task<BenchRedis> StartAsync(string[] args)
    {
        var index = Array.IndexOf(args, "--redis");
        var kind = index >= 0 && index + 1 < args.Length ? args[index + 1] : "single";
        return kind switch
        {
            "single" => new BenchRedis(await RedisServer.StartAsync(), null),
            "cluster" => new BenchRedis(null, await RedisCluster.StartAsync()),
            _ => throw new ArgumentException("--redis takes single or cluster, not " + kind),
        };
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_single is not null)
        {
            await _single.DisposeAsync();
        }

        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }
}
