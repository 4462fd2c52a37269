using System.Globalization;
using MySqlConnector;
using ReadHistory.Api.V1;
using ReadHistory.Core.Routing;
using ReadHistory.Server.Cdc;
using ReadHistory.Server.IntegrationTests.Coherence;
using ReadHistory.Server.IntegrationTests.Hosting;
using ReadHistory.TestSupport;

namespace ReadHistory.Server.IntegrationTests.Cluster;

/// <summary>
/// A CDC host and two cache nodes pointed at a <see cref="RedisCluster"/> (every endpoint in the configuration string),
/// in one pool of <see cref="Slots"/> slots; node A serves slot <see cref="SlotA"/> and node B slot
/// <see cref="SlotB"/>, two slots whose keys lie on different masters. Rows go straight into MariaDB, so the only way
/// a node that holds a user learns of them is its slot's change stream (no peer fan-out is involved).
/// </summary>
internal sealed class ClusterCoherenceRig : IAsyncDisposable
{
    /// <summary>Slots of the pool.</summary>
    public const int Slots = 8;

    /// <summary>The gap counter of a cache node.</summary>
    public const string GapsMetric = "readhistory_coherence_gaps_total";

    /// <summary>The CDC host's counter of new epochs.</summary>
    public const string EpochsMetric = "readhistory_cdc_epochs_started_total";

    private readonly MySqlDataSource _database;
    private long _nextId;

    private ClusterCoherenceRig(RedisCluster cluster, MySqlDataSource database, ShardNames names, CdcKeys keys, int slotA, int slotB)
    {
        Redis = cluster;
        _database = database;
        Names = names;
        Keys = keys;
        SlotA = slotA;
        SlotB = slotB;
    }

    public RedisCluster Redis { get; }

    public ShardNames Names { get; }

    public CdcKeys Keys { get; }

    public int SlotA { get; }

    public int SlotB { get; }

    public TestHost Cdc { get; private set; } = null!;

    public CoherenceCluster.Replica CdcMetrics { get; private set; } = null!;

    public CoherenceCluster.Replica A { get; private set; } = null!;

    public CoherenceCluster.Replica B { get; private set; } = null!;

    /// <summary>The model of rows committed to the database (each INSERT that returned).</summary>
    public AcknowledgedReads Model { get; } = new();

    /// <summary>
    /// Starts the hosts, each until ready, under a schema and key prefix of their own; slot A's keys lie on the master of
    /// the publisher's own keys (lease, checkpoint) when <paramref name="slotAWithPublisherKeys"/>, on another otherwise.
    /// </summary>
    public static async Task<ClusterCoherenceRig> StartAsync(MariaDbServer mariaDb, RedisCluster cluster, bool slotAWithPublisherKeys = false)
    {
        var prefix = "rcl" + Guid.NewGuid().ToString("N")[..8];
        var keys = new CdcKeys(prefix);

        // Slots whose keys lie on two different masters (the tags do not depend on the prefix, so neither does the choice).
        var masters = new List<(int Slot, int Port)>();
        for (var slot = 0; slot < Slots; slot++)
        {
            masters.Add((slot, (await cluster.MasterOfAsync(await cluster.KeySlotAsync(keys.Slot("default", slot).Stream))).Port));
        }

        var publisherPort = (await cluster.MasterOfAsync(await cluster.KeySlotAsync(keys.Checkpoint))).Port;
        var slotA = masters.First(m => (m.Port == publisherPort) == slotAWithPublisherKeys).Slot;
        var slotB = masters.First(m => m.Port != masters[slotA].Port).Slot;
        var rig = new ClusterCoherenceRig(cluster, new MySqlDataSource(mariaDb.ConnectionString()), new ShardNames(prefix, 1, 1), keys, slotA, slotB);

        var cdc = Settings("cdc", mariaDb, prefix, cluster);
        cdc["ReadHistory:Cdc:LeaseTime"] = "00:00:02";
        cdc["ReadHistory:Cdc:StandbyPollInterval"] = "00:00:00.100";
        cdc["ReadHistory:Cdc:HeartbeatInterval"] = "00:00:00.100";
        rig.Cdc = await TestHost.StartReadyAsync(cdc);
        rig.CdcMetrics = new CoherenceCluster.Replica(rig.Cdc);
        rig.A = new CoherenceCluster.Replica(await TestHost.StartReadyAsync(NodeSettings(mariaDb, prefix, cluster, slotA)));
        rig.B = new CoherenceCluster.Replica(await TestHost.StartReadyAsync(NodeSettings(mariaDb, prefix, cluster, slotB)));
        return rig;
    }

    /// <summary>The hash slot of slot <paramref name="slot"/>'s keys.</summary>
    public Task<int> HashSlotOfAsync(int slot) => Redis.KeySlotAsync(Keys.Slot("default", slot).Stream);

    /// <summary><paramref name="count"/> users that the pool routes to <paramref name="slot"/>.</summary>
    public static ulong[] UsersOf(int slot, int count) =>
        [.. Enumerable.Range(1, 100_000).Select(static u => (ulong)u * 7919).Where(u => JumpConsistentHash.Bucket(u, Slots) == slot).Take(count)];

    /// <summary>Makes <paramref name="node"/> hold every one of <paramref name="users"/> in memory.</summary>
    public static async Task WarmAsync(CoherenceCluster.Replica node, IEnumerable<ulong> users)
    {
        foreach (var user in users)
        {
            await node.CheckUntilAsync(user, [1], static r => r.Source == AnswerSource.Memory);
        }
    }

    /// <summary>Commits one row per id for <paramref name="user"/> straight into MariaDB and records them once committed.</summary>
    public async Task InsertAsync(ulong user, params ulong[] ids)
    {
        var connection = await _database.OpenConnectionAsync().AsTask().DefaultTimeout();
        await using (connection)
        {
            var values = string.Join(",", ids.Select(id => string.Create(CultureInfo.InvariantCulture, $"({user},0,{id},1700000000)")));
            await using var command = new MySqlCommand($"INSERT INTO {Names.QualifiedTable(0)} (user_id, content_type, content_id, read_at) VALUES {values}", connection);
            await command.ExecuteNonQueryAsync().DefaultTimeout();
        }

        Model.Acknowledge(user, ids);
    }

    /// <summary>A fresh content id.</summary>
    public ulong NextId() => (ulong)Interlocked.Increment(ref _nextId);

    /// <summary>Inserts rows (1–3 fresh ids for a random one of <paramref name="users"/>) until <paramref name="stop"/>, bounded by <paramref name="maxWrites"/>.</summary>
    public Task WriteAsync(ulong[] users, int maxWrites, CancellationToken stop) => Task.Run(async () =>
    {
        var random = new Random(users.Length);
        for (var i = 0; i < maxWrites && !stop.IsCancellationRequested; i++)
        {
            var ids = new ulong[random.Next(1, 4)];
            for (var k = 0; k < ids.Length; k++)
            {
                ids[k] = NextId();
            }

            await InsertAsync(users[random.Next(users.Length)], ids);
            await Task.Delay(2, CancellationToken.None);
        }
    }, CancellationToken.None);

    /// <summary>Waits until the model holds at least <paramref name="writes"/> committed inserts (bounded).</summary>
    public Task UntilWritesAsync(long writes) =>
        Poll.UntilAsync(() => Task.FromResult(Model.Writes), seen => seen >= writes, $"{writes} committed inserts", TimeSpan.FromSeconds(60));

    /// <summary>
    /// Proves <paramref name="node"/> has applied its slot stream up to now: a row inserted for <paramref name="user"/>
    /// (held by the node) shows up in its memory; everything committed before it sits earlier in the stream.
    /// </summary>
    public async Task FenceAsync(CoherenceCluster.Replica node, ulong user, TimeSpan? timeout = null)
    {
        var marker = NextId();
        await node.CheckUntilAsync(user, [marker], static r => r.Source == AnswerSource.Memory);
        await InsertAsync(user, marker);
        await Poll.UntilAsync(() => node.CheckAsync(user, [marker]), static r => r.Source == AnswerSource.Memory && r.UnreadCount == 0, $"row {marker} of user {user} to reach the node", timeout);
    }

    /// <summary>
    /// Proves the stream itself delivers to <paramref name="node"/> again: fences until one completes without the node
    /// counting a gap meanwhile (a gap drops the user, whose rebuild from the database would answer the fence too).
    /// Bounded by <paramref name="attempts"/> fences of a minute each.
    /// </summary>
    public async Task StreamFenceAsync(CoherenceCluster.Replica node, ulong user, int attempts = 5)
    {
        for (var attempt = 1; ; attempt++)
        {
            var gaps = await node.CounterAsync(GapsMetric);
            await FenceAsync(node, user, TimeSpan.FromSeconds(60));
            if (await node.CounterAsync(GapsMetric) == gaps)
            {
                return;
            }

            if (attempt == attempts)
            {
                throw new TimeoutException($"each of {attempts} fences saw a gap: the stream does not deliver on its own");
            }
        }
    }

    /// <summary>Checks every committed id of <paramref name="users"/> on <paramref name="node"/> until answered from memory; returns the false negatives.</summary>
    public async Task<List<string>> FalseNegativesAsync(CoherenceCluster.Replica node, IEnumerable<ulong> users)
    {
        var misses = new List<string>();
        foreach (var user in users)
        {
            var ids = Model.Of(user);
            if (ids.Length == 0)
            {
                continue;
            }

            await node.CheckUntilAsync(user, ids, answer =>
            {
                var bitmap = answer.ReadBitmap.Span;
                for (var i = 0; i < ids.Length; i++)
                {
                    if ((bitmap[i >> 3] & (1 << (i & 7))) == 0)
                    {
                        misses.Add($"user {user} id {ids[i]} ({answer.Source})");
                    }
                }

                return answer.Source == AnswerSource.Memory;
            });
        }

        return misses;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        foreach (var node in new[] { A, B, CdcMetrics })
        {
            if (node is not null)
            {
                node.Dispose();
                await node.Host.DisposeAsync();
            }
        }

        await _database.DisposeAsync();
    }

    private static Dictionary<string, string?> Settings(string roles, MariaDbServer mariaDb, string prefix, RedisCluster cluster)
    {
        var settings = TestHost.Settings(roles, mariaDb.ConnectionString(), prefix, cluster.Configuration);
        settings["ReadHistory:Topology:Pools:0:Name"] = "default";
        for (var slot = 0; slot < Slots; slot++)
        {
            settings[string.Create(CultureInfo.InvariantCulture, $"ReadHistory:Topology:Pools:0:Slots:{slot}:Replicas:0")] = "http://127.0.0.1:1";
        }

        return settings;
    }

    private static Dictionary<string, string?> NodeSettings(MariaDbServer mariaDb, string prefix, RedisCluster cluster, int slot)
    {
        var settings = Settings("cache", mariaDb, prefix, cluster);
        settings["ReadHistory:Cache:Pool"] = "default";
        settings["ReadHistory:Cache:Slot"] = slot.ToString(CultureInfo.InvariantCulture);
        settings["ReadHistory:Cache:Replica"] = "0";
        return settings;
    }
}
