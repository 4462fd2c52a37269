using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using ReadHistory.Core.Filters;
using ReadHistory.Server.Cache;
using ReadHistory.Server.Cdc;
using ReadHistory.Server.IntegrationTests.Cdc;
using ReadHistory.TestSupport;
using ReadHistory.TestSupport.Server;
using StackExchange.Redis;
using Xunit;

namespace ReadHistory.Server.IntegrationTests.SnapshotTier;

/// <summary>
/// One slot of pool "test" on a real Redis (a key prefix of its own): its change stream, written here as the CDC would
/// write it, an in-memory database shared by the nodes, and the exact model of every acknowledged (user, type, id).
/// Nodes are <see cref="ReadThroughCache"/>s with a T2 over the Redis; each tails the stream by hand
/// (<see cref="TailAsync"/>), as the coherence tailer does, so every interleaving is the test's to choose.
/// </summary>
internal sealed class SnapshotTierRig : IAsyncDisposable
{
    public const string Pool = "test";
    public const ulong Epoch = 7;

    private readonly List<Node> _nodes = [];

    private SnapshotTierRig(ConnectionMultiplexer redis)
    {
        Redis = redis;
        Prefix = "t2" + Guid.NewGuid().ToString("N")[..10];
        Keys = new CdcKeys(Prefix).Slot(Pool, 0);
    }

    public ConnectionMultiplexer Redis { get; }

    public string Prefix { get; }

    public SlotKeys Keys { get; }

    public InMemoryHistorySource Db { get; } = new();

    /// <summary>Every acknowledged read: none may ever be answered unread.</summary>
    public ConcurrentDictionary<(ulong User, ContentKey Key), byte> Acked { get; } = new();

    public static async Task<SnapshotTierRig> CreateAsync(string configuration)
    {
        var redis = await CdcHarness.ConnectAsync(ConfigurationOptions.Parse(configuration + ",abortConnect=false,connectRetry=10,syncTimeout=10000"));
        var rig = new SnapshotTierRig(redis);
        await rig.SetEpochAsync(Epoch);
        return rig;
    }

    public Task SetEpochAsync(ulong epoch) => Redis.GetDatabase().HashSetAsync(Keys.State, SlotKeys.EpochField, CdcKeys.FormatEpoch(epoch)).DefaultTimeout();

    /// <summary>A node tailing from the stream's end now, with T2 over <paramref name="wrap"/>(the Redis store).</summary>
    public async Task<Node> NodeAsync(long budgetBytes = 1 << 20, Action<SnapshotTierOptions>? configure = null, Func<ISnapshotStore, ISnapshotStore>? wrap = null, IHistorySource? source = null)
    {
        var options = new SnapshotTierOptions { Enabled = true, LoadTimeout = TestTimeout.Default, WriteBackMinRows = long.MaxValue, Ttl = TimeSpan.FromMinutes(5), WriteBackQueue = 64 };
        configure?.Invoke(options);
        var reader = Reader();
        var store = new RedisSnapshotStore(Redis, Prefix, Pool, 0, reader);
        var position = new AppliedCursor();
        position.Publish(await reader.GetTailCursorAsync().DefaultTimeout());
        var metrics = new SnapshotTierMetrics(Pool);
        var tier = new Server.Cache.SnapshotTier(Pool, options, wrap is null ? store : wrap(store), position, TimeProvider.System, NullLogger.Instance, metrics);
        var cache = new ReadThroughCache(CacheTestKit.Options(budgetBytes), source ?? Db, TimeProvider.System, NullLogger.Instance, snapshotTier: tier);
        var node = new Node(cache, tier, position, reader, store);
        _nodes.Add(node);
        return node;
    }

    public ChangeStreamReader Reader() =>
        new(Redis, null, new RedisOptions { Configuration = "unused", KeyPrefix = Prefix }, ShippedDefaults.Cdc(), Pool, 0, TimeProvider.System, NullLogger.Instance);

    /// <summary>Commits reads through no node (another replica's writes): in the database, the model, and the stream.</summary>
    public Task<string> CommitAsync(ulong user, ushort type, params ulong[] ids)
    {
        foreach (var id in ids)
        {
            Db.Seed(user, type, id);
            Acked[(user, new ContentKey(type, id))] = 0;
        }

        return PublishAsync(ids.Select(id => new StreamChange(user, type, id, StreamChangeKind.Upsert)).ToArray());
    }

    /// <summary>Reads written through <paramref name="node"/> (MarkRead), then published by the "CDC".</summary>
    public async Task MarkReadAsync(Node node, ulong user, ushort type, params ulong[] ids)
    {
        await MarkReadUnpublishedAsync(node, user, type, ids);
        await PublishAsync(ids.Select(id => new StreamChange(user, type, id, StreamChangeKind.Upsert)).ToArray());
    }

    /// <summary>Reads written through <paramref name="node"/> (MarkRead) that the "CDC" has not published yet (its lag).</summary>
    public async Task MarkReadUnpublishedAsync(Node node, ulong user, ushort type, params ulong[] ids)
    {
        await CacheTestKit.MarkReadAsync(node.Cache, user, type, ids);
        foreach (var id in ids)
        {
            Acked[(user, new ContentKey(type, id))] = 0;
        }
    }

    /// <summary>Appends one batch of the current epoch to the slot's stream; returns its id.</summary>
    public async Task<string> PublishAsync(StreamChange[] changes) =>
        (string)(await Redis.GetDatabase().StreamAddAsync(Keys.Stream, "data", ChangeBatch.Create(Epoch, 0, "0-1-1", changes)).DefaultTimeout())!;

    /// <summary>What the coherence tailer does, up to the stream's end now: apply every change, then publish the position.</summary>
    public static async Task TailAsync(Node node)
    {
        while (true)
        {
            var updates = await node.Reader.ReadAsync(node.Position.Applied!.Value).DefaultTimeout();
            if (updates.Count == 0)
            {
                return;
            }

            foreach (var update in updates)
            {
                if (update.IsGap)
                {
                    node.Cache.DropAll();
                }
                else
                {
                    for (var i = 0; i < update.Batch!.Count; i++)
                    {
                        var change = update.Batch[i];
                        node.Cache.ApplyChange(change.UserId, change.ContentType, change.ContentId, change.Kind == StreamChangeKind.Upsert ? ChangeKind.Insert : ChangeKind.DeleteUser);
                    }
                }

                node.Position.Publish(update.Cursor);
            }
        }
    }

    /// <summary>Seeds <paramref name="rows"/> committed reads of a user (type 1) in the database and the model (before any node starts).</summary>
    public ulong[] Seed(ulong user, int rows, ushort type = 1)
    {
        var ids = Enumerable.Range(0, rows).Select(i => (user * 1_000_000) + (ulong)i).ToArray();
        foreach (var id in ids)
        {
            Db.Seed(user, type, id);
            Acked[(user, new ContentKey(type, id))] = 0;
        }

        return ids;
    }

    /// <summary>Misses on <paramref name="user"/> and waits until its filter is held (rebuilt or loaded).</summary>
    public static async Task<CheckResult> WarmAsync(Node node, ulong user)
    {
        var (_, result) = await CacheTestKit.CheckAsync(node.Cache, user, 1, 1);
        await CacheTestKit.WaitForRebuildsAsync(node.Cache);
        Assert.True(node.Holds(user), "the user is held after its rebuild");
        return result;
    }

    /// <summary>Installs filler users until <paramref name="user"/> is evicted, then waits for its write-back.</summary>
    public async Task EvictAsync(Node node, ulong user)
    {
        var written = node.Tier.Metrics.Written;
        for (var filler = 900_000UL; node.Holds(user); filler++)
        {
            Assert.True(filler < 901_000, "the user was never evicted");
            Seed(filler, 2_000);
            await WarmAsync(node, filler);
        }

        await Poll.UntilAsync(() => node.Tier.Metrics.Written > written && node.Tier.QueuedWriteBacks == 0, "the evicted filter's write-back");
    }

    /// <summary>Whether a snapshot of the user is stored.</summary>
    public Task<bool> StoredAsync(ulong user) => Redis.GetDatabase().KeyExistsAsync(new RedisSnapshotStore(Redis, Prefix, Pool, 0, Reader()).Key(user)).DefaultTimeout();

    /// <summary>Checks every acknowledged read of <paramref name="user"/> through the node; returns the sources that answered.</summary>
    public async Task<CheckSource[]> AssertNoFalseNegativesAsync(Node node, ulong user)
    {
        var sources = new List<CheckSource>();
        foreach (var group in Acked.Keys.Where(k => k.User == user).GroupBy(static k => k.Key.Type))
        {
            var ids = group.Select(static k => k.Key.Id).ToArray();
            var (bitmap, result) = await CacheTestKit.CheckAsync(node.Cache, user, group.Key, ids);
            sources.Add(result.Source);
            for (var i = 0; i < ids.Length; i++)
            {
                Assert.True(CacheTestKit.IsSet(bitmap, i), $"false negative: user {user} type {group.Key} id {ids[i]} answered unread ({result.Source})");
            }
        }

        return [.. sources];
    }

    /// <summary>Stops a node gracefully (its shutdown write-back, if configured, included); the rig no longer disposes it.</summary>
    public async Task StopAsync(Node node)
    {
        _nodes.Remove(node);
        await node.Cache.DisposeAsync().AsTask().DefaultTimeout();
    }

    /// <summary>Makes the user's snapshot look written <paramref name="age"/> ago (its time to live set to Ttl − age).</summary>
    public Task AgeSnapshotAsync(Node node, ulong user, TimeSpan age) =>
        Redis.GetDatabase().KeyExpireAsync(node.Store.Key(user), node.Tier.Options.Ttl - age).DefaultTimeout();

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.Cache.DisposeAsync();
        }

        await Redis.DisposeAsync();
    }

    /// <summary>A node: its cache, its T2, its stream position and reader, and the Redis store under any wrapper.</summary>
    internal sealed record Node(ReadThroughCache Cache, Server.Cache.SnapshotTier Tier, AppliedCursor Position, ChangeStreamReader Reader, RedisSnapshotStore Store)
    {
        /// <summary>Whether the node holds a filter of the user (without touching its CLOCK bit).</summary>
        public bool Holds(ulong user) => Cache.Filters.RankHottestFirst().Any(e => e.UserId == user);
    }
}
