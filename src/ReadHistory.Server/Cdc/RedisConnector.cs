using Microsoft.Extensions.Options;
using ReadHistory.Server.Topology;
using StackExchange.Redis;

namespace ReadHistory.Server.Cdc;

/// <summary>
/// The process's Redis connections, opened lazily with abortConnect=false so the process starts while Redis is down and
/// StackExchange.Redis reconnects by itself when it comes back: one shared multiplexer for every ordinary command
/// (scripts, lease, stream reads), and one dedicated to the coherence tail's blocking XREAD, which would otherwise hold
/// the shared connection for the whole BLOCK time. Given several nodes of a Redis Cluster, each multiplexer learns the
/// hash-slot map and follows MOVED and ASK by itself; no command this service sends spans two hash slots (see
/// <see cref="CdcKeys"/>).
/// </summary>
internal sealed class RedisConnector(IOptions<RedisOptions> redis, IOptions<CdcOptions> cdc, NodePlacement node, IOptions<Cache.CacheNodeOptions>? cache = null) : IDisposable
{
    private readonly Lazy<ConnectionMultiplexer> _connection = new(() => ConnectionMultiplexer.Connect(Configure(redis.Value, "readhistory-" + node.NodeName, blockFor: TimeSpan.Zero)));
    private readonly Lazy<ConnectionMultiplexer> _tailConnection = new(() => ConnectionMultiplexer.Connect(Configure(redis.Value, "readhistory-" + node.NodeName, blockFor: cdc.Value.ReadPollInterval)));

    // The second tier's snapshots are large values (a heavy user's is hundreds of KiB): a connection of their own keeps
    // them from queueing ahead of stream reads, and may point at a dedicated Redis (Cache:T2:Configuration, whose
    // string carries its own credentials). On the shared Redis it is the same Redis options, password and CA included.
    private readonly Lazy<ConnectionMultiplexer> _snapshotConnection = new(() => ConnectionMultiplexer.Connect(Configure(
        SnapshotOptions(redis.Value, cache?.Value.T2.Configuration),
        "readhistory-" + node.NodeName + "-t2",
        blockFor: TimeSpan.Zero)));

    /// <summary>The connection of the second tier's snapshots (created on first use).</summary>
    public IConnectionMultiplexer SnapshotConnection => _snapshotConnection.Value;

    /// <summary>The shared connection (created on first use).</summary>
    public IConnectionMultiplexer Connection => _connection.Value;

    /// <summary>The connection for blocking stream reads only (created on first use; a node tails one stream).</summary>
    public IConnectionMultiplexer TailConnection => _tailConnection.Value;

    /// <summary>The Redis options of the second tier: the coherence Redis's whole options, or a dedicated Redis's own string alone.</summary>
    internal static RedisOptions SnapshotOptions(RedisOptions redis, string? snapshotConfiguration) =>
        string.IsNullOrWhiteSpace(snapshotConfiguration) ? redis : new RedisOptions { Configuration = snapshotConfiguration };

    /// <summary>
    /// The options of a connection: the configured string, with the defaults below for what it leaves unset; the
    /// client name (CLIENT LIST) is the configured one or <paramref name="clientName"/>. <paramref name="blockFor"/> is
    /// the longest BLOCK a command on this connection asks for (zero: none may block): it is added to the async
    /// timeout, so a blocking read that ends empty is never taken for a dead connection, and "-tail" to the name.
    /// </summary>
    internal static ConfigurationOptions Configure(RedisOptions redis, string clientName, TimeSpan blockFor)
    {
        ArgumentNullException.ThrowIfNull(redis);

        // Timeouts are the library's defaults, kept on purpose (a configuration string may still set them):
        //  - asyncTimeout = syncTimeout = 5 s: under half the CDC lease (10 s by default), so a hung publish or renewal
        //    fails while the leader can still renew or give up before another process takes over;
        //  - connectTimeout 5 s with connectRetry 3: a start with Redis down goes on within seconds, and the
        //    multiplexer keeps reconnecting in the background (abortConnect=false below).
        var configuration = ConfigurationOptions.Parse(redis.Configuration);

        // The password from a Secret, the string from the ConfigMap; a private CA for a TLS Redis.
        if (redis.Password.Length > 0)
        {
            configuration.Password = redis.Password;
        }

        if (redis.CaPath.Length > 0)
        {
            configuration.TrustIssuer(redis.CaPath);
        }

        // Always: the process must start (and serve from the database) while Redis is down.
        configuration.AbortOnConnectFail = false;

        // CLIENT SETNAME refuses spaces: a node name with one still gets a name.
        configuration.ClientName = (configuration.ClientName ?? clientName).Replace(' ', '-') + (blockFor > TimeSpan.Zero ? "-tail" : string.Empty);

        // RESP2 pinned: RESP3's gain is pub/sub sharing the interactive connection, and this service uses no pub/sub;
        // the blocking XREAD (sent through ExecuteAsync) replies with an array in RESP2 but a map in RESP3, so pinning
        // keeps every reply shape this code parses the same whatever the configuration string says.
        configuration.Protocol = RedisProtocol.Resp2;
        if (blockFor > TimeSpan.Zero)
        {
            configuration.AsyncTimeout = checked(configuration.AsyncTimeout + (int)Math.Ceiling(blockFor.TotalMilliseconds));
        }

        return configuration;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_snapshotConnection.IsValueCreated)
        {
            _snapshotConnection.Value.Dispose();
        }

        if (_tailConnection.IsValueCreated)
        {
            _tailConnection.Value.Dispose();
        }

        if (_connection.IsValueCreated)
        {
            _connection.Value.Dispose();
        }
    }
}
