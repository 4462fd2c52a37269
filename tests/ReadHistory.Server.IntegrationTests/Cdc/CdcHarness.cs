using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using ReadHistory.Server.Cdc;
using ReadHistory.Server.Topology;
using ReadHistory.Server.IntegrationTests.Storage;
using ReadHistory.TestSupport;
using StackExchange.Redis;
using ReadHistory.TestSupport.Server;

namespace ReadHistory.Server.IntegrationTests.Cdc;

/// <summary>A migrated history schema, a Redis key prefix and a topology of its own, with publishers and readers over them.</summary>
internal sealed class CdcHarness : IAsyncDisposable
{
    private readonly List<CdcPublisher> _publishers = [];

    private CdcHarness(CdcServersFixture servers, StorageHarness storage, ConnectionMultiplexer redis, ConnectionMultiplexer tailRedis, TopologyOptions topology, CdcOptions options)
    {
        Servers = servers;
        Storage = storage;
        Redis = redis;
        TailRedis = tailRedis;
        Topology = topology;
        Options = options;
        RedisOptions = new RedisOptions { Configuration = servers.Redis.Endpoint, KeyPrefix = "t" + Guid.NewGuid().ToString("N")[..10] };
        Keys = new CdcKeys(RedisOptions.KeyPrefix);
        Map = CdcTopology.From(topology);
    }

    public CdcServersFixture Servers { get; }

    public StorageHarness Storage { get; }

    public ConnectionMultiplexer Redis { get; }

    /// <summary>The readers' blocking connection, configured as the server configures its own.</summary>
    public ConnectionMultiplexer TailRedis { get; }

    public RedisOptions RedisOptions { get; }

    public TopologyOptions Topology { get; }

    public CdcTopology Map { get; }

    public CdcOptions Options { get; }

    public CdcKeys Keys { get; }

    public static async Task<CdcHarness> CreateAsync(CdcServersFixture servers, (string Pool, int Slots)[]? pools = null, Action<CdcOptions>? configure = null)
    {
        var topology = new TopologyOptions();
        foreach (var (pool, slots) in pools ?? [("feed", 4), ("push", 3)])
        {
            topology.Pools.Add(new PoolOptions { Name = pool, Slots = Enumerable.Range(0, slots).Select(_ => new SlotOptions()).ToList() });
        }

        var options = ShippedDefaults.Cdc(static o =>
        {
            o.LeaseTime = TimeSpan.FromSeconds(2);
            o.StandbyPollInterval = TimeSpan.FromMilliseconds(100);
            o.MaxBatchDelay = TimeSpan.FromMilliseconds(5);
            o.ReadPollInterval = TimeSpan.FromMilliseconds(20);
        });
        configure?.Invoke(options);
        var storage = await StorageHarness.CreateAsync(servers.MariaDb, "cdc");
        var redis = await ConnectAsync(ConfigurationOptions.Parse(servers.Redis.Endpoint + ",abortConnect=false,connectRetry=10,syncTimeout=10000"));
        var tailRedis = await ConnectAsync(RedisConnector.Configure(new RedisOptions { Configuration = servers.Redis.Endpoint + ",connectRetry=10" }, "cdc-tests", options.ReadPollInterval));
        return new CdcHarness(servers, storage, redis, tailRedis, topology, options);
    }

    // With abortConnect=false a multiplexer is returned before it is connected (and once in a full CI run, with
    // StackExchange.Redis 1.2.6, one never finished connecting). A harness therefore starts only with a connected
    // multiplexer: it waits a bounded time and makes a fresh one if the first did not connect.
    public static async Task<ConnectionMultiplexer> ConnectAsync(ConfigurationOptions configuration)
    {
        for (var attempt = 1; ; attempt++)
        {
            var connection = await ConnectionMultiplexer.ConnectAsync(configuration.Clone()).DefaultTimeout();
            try
            {
                await Poll.UntilAsync(() => connection.IsConnected, "the multiplexer to connect", TimeSpan.FromSeconds(5));
                return connection;
            }
            catch (TimeoutException) when (attempt < 3)
            {
                connection.Dispose();
            }
            catch (TimeoutException)
            {
                return connection;
            }
        }
    }

    public CdcPublisher CreatePublisher(IConnectionMultiplexer? connection = null)
    {
        var publisher = new CdcPublisher(Options, Storage.Options, Topology, RedisOptions, connection ?? Redis, TimeProvider.System, NullLogger.Instance);
        _publishers.Add(publisher);
        return publisher;
    }

    public async Task<CdcPublisher> StartLeaderAsync()
    {
        var publisher = CreatePublisher();
        await publisher.StartAsync(CancellationToken.None);
        await Poll.UntilAsync(() => publisher.IsLeader && publisher.Epoch != 0, "the publisher leads");
        await Poll.UntilAsync(() => publisher.LastPublishedPosition is not null, "the publisher is positioned");
        return publisher;
    }

    /// <summary>Every slot's keys, in dense stream order.</summary>
    public SlotKeys[] AllSlots => [.. Enumerable.Range(0, Map.StreamCount).Select(i => Keys.Slot(Map.Pools[Map.StreamAt(i).Pool], Map.StreamAt(i).Slot))];

    /// <summary>
    /// Does what a newer leader does, without publishing after: sets the lease to <paramref name="token"/> for
    /// <paramref name="ttl"/> and claims every slot for it in <paramref name="epoch"/>, so the leader it deposes is
    /// refused by every slot from then on.
    /// </summary>
    public async Task StealLeaseAsync(string token, TimeSpan ttl, ulong epoch)
    {
        await Redis.GetDatabase().StringSetAsync(Keys.Lease, token, ttl).DefaultTimeout();
        var store = new CdcRedisStore(Redis.GetDatabase(), Keys);
        foreach (var slot in AllSlots)
        {
            var claimed = await store.PublishAsync(token, slot, epoch, setEpoch: false, expectedSeq: 0, batch: null, Options.StreamMaxLength).DefaultTimeout();
            if (claimed < 0)
            {
                throw new InvalidOperationException($"could not claim {slot.Stream}: {claimed}");
            }
        }
    }

    public ChangeStreamReader Reader(string pool, int slot) =>
        new(Redis, TailRedis, RedisOptions, Options, pool, slot, TimeProvider.System, NullLogger.Instance);

    public async Task InsertAsync(ulong user, ushort type, params ulong[] ids)
    {
        var values = string.Join(",", ids.Select(id => string.Create(CultureInfo.InvariantCulture, $"({user},{type},{id},1700000000)")));
        await Storage.Server.SqlAsync($"INSERT INTO {Storage.TableOf(user)} (user_id, content_type, content_id, read_at) VALUES {values} ON DUPLICATE KEY UPDATE read_at = VALUES(read_at);");
    }

    /// <summary>Every change of every batch of the epoch in every stream of a pool, with the slot it was found in.</summary>
    public async Task<List<(int Slot, StreamChange Change)>> AllChangesAsync(string pool, ulong epoch)
    {
        var all = new List<(int, StreamChange)>();
        var slots = Map.SlotCount(Map.Pools.ToList().IndexOf(pool));
        for (var slot = 0; slot < slots; slot++)
        {
            var reader = Reader(pool, slot);
            var cursor = new StreamCursor(epoch, StreamCursor.Beginning);
            for (var round = 0; round < 10_000; round++)
            {
                var updates = await reader.ReadAsync(cursor).DefaultTimeout();
                if (updates.Count == 0)
                {
                    break;
                }

                foreach (var update in updates)
                {
                    if (update.IsGap)
                    {
                        throw new InvalidOperationException("unexpected gap: " + update.GapReason);
                    }

                    var changes = new List<StreamChange>();
                    update.Batch!.CopyTo(changes);
                    all.AddRange(changes.Select(c => (slot, c)));
                    cursor = update.Cursor;
                }
            }
        }

        return all;
    }

    public async Task<List<StreamChange>> WaitForChangesAsync(string pool, ulong epoch, Func<List<StreamChange>, bool> done, string what)
    {
        List<StreamChange> changes = [];
        await Poll.UntilAsync(async () =>
        {
            changes = (await AllChangesAsync(pool, epoch)).Select(c => c.Change).ToList();
            return done(changes);
        }, what);
        return changes;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var publisher in _publishers)
        {
            await publisher.DisposeAsync().AsTask().WaitAsync(TestTimeout.Default);
        }

        await Storage.DisposeAsync();
        TailRedis.Dispose();
        Redis.Dispose();
    }
}
