using System.Globalization;

namespace ReadHistory.TestSupport;

/// <summary>
/// A Redis Cluster of the test's own on loopback: three masters and three replicas, each a <see cref="RedisServer"/>
/// (own folder, client and cluster-bus ports reserved by <see cref="FreePort"/>) started with <c>--cluster-enabled yes</c>, joined by
/// <c>redis-cli --cluster create … --cluster-replicas 1</c>, and ready once every node reports <c>cluster_state:ok</c>.
/// cluster-node-timeout is one second so a killed master's replica takes over within seconds, and
/// cluster-replica-validity-factor 0 lets a replica that lagged (or was frozen) take over all the same, as a test of a
/// lost tail needs. repl-diskless-sync-delay is 0 (Redis waits 5 s by default before a replica's first full sync,
/// during which the replica holds nothing), and the cluster counts as started only once every replica's link to its
/// master is up. Stopped and removed on dispose.
/// </summary>
public sealed class RedisCluster : IAsyncDisposable
{
    /// <summary>Hash slots of a Redis Cluster.</summary>
    public const int HashSlots = 16384;

    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(60);
    private readonly List<RedisServer> _nodes;

    private RedisCluster(List<RedisServer> nodes) => _nodes = nodes;

    /// <summary>The six servers, in the order given to <c>redis-cli --cluster create</c> (which makes the first three masters).</summary>
    public IReadOnlyList<RedisServer> Nodes => _nodes;

    /// <summary>Every node's endpoint, comma-separated: a StackExchange.Redis configuration string for the whole cluster.</summary>
    public string Configuration => string.Join(",", _nodes.Select(static n => n.Endpoint));

    /// <summary>Starts six nodes, creates the cluster and waits until every node says it is ok.</summary>
    public static async Task<RedisCluster> StartAsync()
    {
        var nodes = new List<RedisServer>();
        var cluster = new RedisCluster(nodes);
        try
        {
            // The cluster bus port is the client port + 10000 unless set, which would land outside FreePort's range (in the
            // ephemeral one, unreserved): it gets a reserved port of its own (cluster-port, Redis 7.0).
            var starting = Enumerable.Range(0, 6).Select(static _ => RedisServer.StartAsync(
                ["--cluster-enabled", "yes", "--cluster-port", FreePort.Next().ToString(CultureInfo.InvariantCulture), "--cluster-config-file", "nodes.conf",
                  "--cluster-node-timeout", "1000", "--cluster-replica-validity-factor", "0", "--repl-diskless-sync-delay", "0"])).ToList();
            foreach (var node in starting)
            {
                nodes.Add(await node);
            }

            await ChildProcess.RunAsync("redis-cli", ["--cluster", "create", .. nodes.Select(static n => n.Endpoint), "--cluster-replicas", "1", "--cluster-yes"], timeout: ReadyTimeout);
            await cluster.WaitHealthyAsync(ReadyTimeout);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Waits until every running node reports cluster_state:ok and knows a master for each of the 16384 hash slots, and
    /// every running replica whose master runs has finished its sync (master_link_status:up).
    /// </summary>
    public Task WaitHealthyAsync(TimeSpan timeout) =>
        Poll.UntilAsync(async () =>
        {
            var lines = await NodesAsync();
            foreach (var node in Running)
            {
                var info = await node.CliAsync("CLUSTER", "INFO");
                if (!info.Contains("cluster_state:ok", StringComparison.Ordinal) || !info.Contains("cluster_slots_ok:16384", StringComparison.Ordinal))
                {
                    return false;
                }

                var line = lines.Single(l => l.Port == node.Port);
                var master = line.IsMaster ? null : lines.SingleOrDefault(l => l.Id == line.MasterId);
                if (master is { Failed: false } && !(await node.CliAsync("INFO", "replication")).Contains("master_link_status:up", StringComparison.Ordinal))
                {
                    return false;
                }
            }

            return true;
        }, "every Redis Cluster node to report cluster_state:ok and every replica to be in sync", timeout);

    /// <summary>The hash slot of <paramref name="key"/> (CLUSTER KEYSLOT).</summary>
    public async Task<int> KeySlotAsync(string key) =>
        int.Parse((await Running.First().CliAsync("CLUSTER", "KEYSLOT", key)).Trim(), CultureInfo.InvariantCulture);

    /// <summary>The node serving <paramref name="hashSlot"/> as master, as the first running node sees the cluster now.</summary>
    public async Task<RedisServer> MasterOfAsync(int hashSlot)
    {
        foreach (var line in await NodesAsync())
        {
            if (line.IsMaster && line.Serves(hashSlot))
            {
                return _nodes.Single(n => n.Port == line.Port);
            }
        }

        throw new InvalidOperationException($"no master serves hash slot {hashSlot}");
    }

    /// <summary>The replica of <paramref name="master"/>.</summary>
    public async Task<RedisServer> ReplicaOfAsync(RedisServer master)
    {
        ArgumentNullException.ThrowIfNull(master);
        var id = await NodeIdAsync(master);
        var line = (await NodesAsync()).First(l => l.MasterId == id);
        return _nodes.Single(n => n.Port == line.Port);
    }

    /// <summary>The cluster node id of <paramref name="node"/>.</summary>
    public static async Task<string> NodeIdAsync(RedisServer node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return (await node.CliAsync("CLUSTER", "MYID")).Trim();
    }

    /// <summary>
    /// Moves <paramref name="hashSlot"/> to master <paramref name="target"/> as <c>redis-cli --cluster reshard</c> does,
    /// one key per MIGRATE so that a script over two keys of the slot meets the half-moved state (TRYAGAIN, ASK):
    /// IMPORTING on the target, MIGRATING on the source, every key migrated, then the slot assigned to the target on
    /// every master.
    /// </summary>
    public async Task MoveSlotAsync(int hashSlot, RedisServer target)
    {
        ArgumentNullException.ThrowIfNull(target);
        var source = await MasterOfAsync(hashSlot);
        if (source == target)
        {
            throw new ArgumentException("the slot is already on the target", nameof(target));
        }

        var slot = hashSlot.ToString(CultureInfo.InvariantCulture);
        var sourceId = await NodeIdAsync(source);
        var targetId = await NodeIdAsync(target);
        await target.CliAsync("CLUSTER", "SETSLOT", slot, "IMPORTING", sourceId);
        await source.CliAsync("CLUSTER", "SETSLOT", slot, "MIGRATING", targetId);
        for (var round = 0; round < 10_000; round++)
        {
            var keys = (await source.CliAsync("CLUSTER", "GETKEYSINSLOT", slot, "1")).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (keys.Length == 0)
            {
                break;
            }

            await source.CliAsync("MIGRATE", "127.0.0.1", target.Port.ToString(CultureInfo.InvariantCulture), string.Empty, "0", "5000", "KEYS", keys[0]);
        }

        await target.CliAsync("CLUSTER", "SETSLOT", slot, "NODE", targetId);
        await source.CliAsync("CLUSTER", "SETSLOT", slot, "NODE", targetId);
        foreach (var line in await NodesAsync())
        {
            if (line.IsMaster && line.Port != source.Port && line.Port != target.Port && !line.Failed)
            {
                await _nodes.Single(n => n.Port == line.Port).CliAsync("CLUSTER", "SETSLOT", slot, "NODE", targetId);
            }
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
    }

    private IEnumerable<RedisServer> Running => _nodes.Where(static n => n.IsRunning);

    private async Task<List<NodeLine>> NodesAsync()
    {
        var text = await Running.First().CliAsync("CLUSTER", "NODES");
        return [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(NodeLine.Parse)];
    }

    /// <summary>
    /// One line of CLUSTER NODES: <c>id ip:port@cport flags master-id ping pong epoch link slot…</c>, where a slot is
    /// "n", "a-b", or "[n-&gt;-id]" / "[n-&lt;-id]" while it moves.
    /// </summary>
    private sealed record NodeLine(string Id, int Port, bool IsMaster, bool Failed, string MasterId, IReadOnlyList<(int From, int To)> Slots)
    {
        public bool Serves(int hashSlot) => Slots.Any(r => hashSlot >= r.From && hashSlot <= r.To);

        public static NodeLine Parse(string line)
        {
            var parts = line.Split(' ');
            var address = parts[1];
            var port = int.Parse(address[(address.IndexOf(':', StringComparison.Ordinal) + 1)..address.IndexOf('@', StringComparison.Ordinal)], CultureInfo.InvariantCulture);
            var flags = parts[2].Split(',');
            var slots = new List<(int, int)>();
            foreach (var range in parts.Skip(8).Where(static p => !p.StartsWith('[')))
            {
                var dash = range.IndexOf('-', StringComparison.Ordinal);
                slots.Add(dash < 0
                    ? (int.Parse(range, CultureInfo.InvariantCulture), int.Parse(range, CultureInfo.InvariantCulture))
                    : (int.Parse(range[..dash], CultureInfo.InvariantCulture), int.Parse(range[(dash + 1)..], CultureInfo.InvariantCulture)));
            }

            return new NodeLine(parts[0], port, flags.Contains("master"), flags.Contains("fail") || flags.Contains("fail?"), parts[3], slots);
        }
    }
}
