using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using ReadHistory.Api.Internal.V1;
using ReadHistory.Api.V1;
using Grpc.Core;
using Grpc.Net.Client;
using ReadHistory.Server.Cache;
using ReadHistory.Server.Coherence;
using ReadHistory.Server.IntegrationTests.Cache;
using ReadHistory.Server.IntegrationTests.Cdc;
using ReadHistory.TestSupport;
using Xunit;
using ReadHistory.TestSupport.Server;
using CacheNodeClient = ReadHistory.Api.Internal.V1.CacheNode.CacheNodeClient;

namespace ReadHistory.Server.IntegrationTests.Hosting;

/// <summary>
/// Warm start at node start-up with real MariaDB, Redis and CDC: a new replica of a slot copies a serving peer's filters,
/// tails the stream from the peer's cursor, and misses no change committed during the copy; it starts cold otherwise.
/// </summary>
[Collection(CdcServersFixture.Collection)]
public sealed class WarmStartOnNodeStartTests(CdcServersFixture servers)
{
    private const int Users = 30;

    [Fact]
    public async Task A_new_replica_warm_starts_from_a_serving_peer_and_answers_from_memory_like_it()
    {
        var prefix = NewPrefix();
        await using var cdc = await TestHost.StartReadyAsync(Settings("cdc", prefix));
        await using var peer = await TestHost.StartReadyAsync(Settings("cache", prefix));
        using var peerChannel = GrpcChannel.ForAddress(peer.Internal);
        var a = peerChannel.CreateCallInvoker();
        var model = await LoadUsersAsync(a);

        // Writes through the peer keep going while the new replica starts, copies and replays.
        using var stop = new CancellationTokenSource();
        var writer = WriteUntilStoppedAsync(a, model, stop.Token);
        await using var replica = await TestHost.StartReadyAsync(Joining(prefix, peer.Internal));
        var warmUsers = (await StatsAsync(replica)).Users;
        await stop.CancelAsync();
        var written = await writer.DefaultTimeout();

        using var replicaChannel = GrpcChannel.ForAddress(replica.Internal);
        var b = replicaChannel.CreateCallInvoker();
        Assert.Equal((ulong)Users, warmUsers);
        Assert.True(written > 0, "the writer committed nothing while the replica started");
        foreach (var (user, ids) in model)
        {
            var known = ids.Keys.ToArray();
            var probe = known.Concat(Enumerable.Range(1, 40).Select(i => (user * 100_000) + 90_000 + (ulong)i)).ToArray();
            var fromReplica = await EventuallyAsync(b, user, known, static r => r.UnreadCount == 0);
            Assert.Equal(AnswerSource.Memory, fromReplica.Source);
            var expected = await CheckAsync(a, user, probe);
            var actual = await CheckAsync(b, user, probe);
            Assert.Equal(AnswerSource.Memory, actual.Source);
            Assert.Equal(expected.ReadBitmap.ToByteArray(), actual.ReadBitmap.ToByteArray());
        }

        var stats = await StatsAsync(replica);
        Assert.Equal(0UL, stats.Misses);
        Assert.Equal((ulong)Users, stats.Users);
    }

    [Fact]
    public async Task A_write_committed_after_the_peers_cursor_and_missing_from_the_copy_is_replayed()
    {
        var prefix = NewPrefix();
        await using var cdc = await TestHost.StartReadyAsync(Settings("cdc", prefix));
        await using var peer = await TestHost.StartReadyAsync(Settings("cache", prefix));
        using var peerChannel = GrpcChannel.ForAddress(peer.Internal);
        var a = peerChannel.CreateCallInvoker();
        await LoadUsersAsync(a);

        // The peer's own cache and cursor, served through a Snapshot endpoint that commits a write for the first user
        // of the first chunk after that chunk's filters were serialized (and the cursor read), before sending it.
        var cache = peer.App.Services.GetRequiredService<CacheNodeHost>().Current!;
        var cursors = peer.App.Services.GetRequiredService<CoherenceTailer>().Cursors;
        await using var snapshots = await SnapshotPeer.StartAsync(cache, cursors);
        ulong target = 0;
        const ulong LateId = 777_777;
        snapshots.Tamper = async (chunk, index, cancellationToken) =>
        {
            if (index == 0)
            {
                target = chunk.Filters[0].UserId;
                await MarkAsync(a, target, LateId);
            }

            return chunk;
        };

        await using var replica = await TestHost.StartReadyAsync(Joining(prefix, snapshots.Address, chunkBytes: 1024));
        using var replicaChannel = GrpcChannel.ForAddress(replica.Internal);
        var b = replicaChannel.CreateCallInvoker();

        Assert.NotEqual(0UL, target);
        Assert.True(snapshots.ChunksWritten > 1, "the copy took a single chunk");
        Assert.Equal((ulong)Users, (await StatsAsync(replica)).Users);
        var seen = await EventuallyAsync(b, target, [LateId], static r => r.UnreadCount == 0);
        Assert.Equal(AnswerSource.Memory, seen.Source);
        Assert.Equal(0UL, (await StatsAsync(replica)).Misses);
    }

    [Fact]
    public async Task The_warm_start_counters_stay_exported_after_the_warm_start_completed()
    {
        var prefix = NewPrefix();
        await using var cdc = await TestHost.StartReadyAsync(Settings("cdc", prefix));
        await using var peer = await TestHost.StartReadyAsync(Settings("cache", prefix));
        using var peerChannel = GrpcChannel.ForAddress(peer.Internal);
        await LoadUsersAsync(peerChannel.CreateCallInvoker());

        // Ready means the warm start is over (and its WarmStarter gone); the node's counters must outlive it.
        await using var replica = await TestHost.StartReadyAsync(Joining(prefix, peer.Internal));
        Assert.Equal((ulong)Users, (await StatsAsync(replica)).Users);
        using var http = new HttpClient();
        var text = await http.GetStringAsync(new Uri(replica.Http, "/metrics")).DefaultTimeout();

        Assert.Contains($"readhistory_cache_warm_start_users_total{{pool=\"default\"}} {Users}", text, StringComparison.Ordinal);
        Assert.Contains("readhistory_cache_warm_start_bytes_total{pool=\"default\"} ", text, StringComparison.Ordinal);
        Assert.Contains("readhistory_cache_warm_starts_total{outcome=\"completed\",pool=\"default\"} 1", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_replica_whose_peer_is_down_starts_cold_and_answers_from_the_database()
    {
        var prefix = NewPrefix();
        await using var cdc = await TestHost.StartReadyAsync(Settings("cdc", prefix));
        await using var other = await TestHost.StartReadyAsync(Settings("cache", prefix));
        using var otherChannel = GrpcChannel.ForAddress(other.Internal);
        var a = otherChannel.CreateCallInvoker();
        await MarkAsync(a, 42, 1);

        await using var replica = await TestHost.StartReadyAsync(Joining(prefix, new Uri("http://127.0.0.1:" + FreePort.Next())));
        using var replicaChannel = GrpcChannel.ForAddress(replica.Internal);
        var b = replicaChannel.CreateCallInvoker();

        Assert.Equal(0UL, (await StatsAsync(replica)).Users);
        var cold = await CheckAsync(b, 42, [1, 2]);
        Assert.Equal(AnswerSource.Database, cold.Source);
        Assert.Equal(new byte[] { 0b01 }, cold.ReadBitmap.ToByteArray());

        // Cold but coherent: once rebuilt, a later write through the other replica reaches it through the stream.
        await EventuallyAsync(b, 42, [1], static r => r.Source == AnswerSource.Memory);
        await MarkAsync(a, 42, 2);
        var seen = await EventuallyAsync(b, 42, [1, 2], static r => r.UnreadCount == 0);
        Assert.Equal(AnswerSource.Memory, seen.Source);
    }

    [Fact]
    public async Task A_replica_whose_peer_tails_no_stream_discards_the_copy_and_starts_cold()
    {
        var prefix = NewPrefix();
        await using var cdc = await TestHost.StartReadyAsync(Settings("cdc", prefix));
        // A serving peer without Redis: its snapshot carries an empty cursor, so its filters cannot be proven coherent.
        await using var peer = await TestHost.StartReadyAsync(TestHost.Settings("cache", servers.MariaDb.ConnectionString(), prefix));
        using var peerChannel = GrpcChannel.ForAddress(peer.Internal);
        await LoadUsersAsync(peerChannel.CreateCallInvoker());

        await using var replica = await TestHost.StartReadyAsync(Joining(prefix, peer.Internal));

        Assert.Equal(0UL, (await StatsAsync(replica)).Users);
        Assert.Equal((ulong)Users, (await StatsAsync(peer)).Users);
    }

    private static string NewPrefix() => "warm" + Guid.NewGuid().ToString("N")[..8];

    private Dictionary<string, string?> Settings(string roles, string prefix) =>
        TestHost.Settings(roles, servers.MariaDb.ConnectionString(), prefix, servers.Redis.Endpoint);

    /// <summary>A cache node that is replica 1 of slot 0 of pool "default", whose replica 0 is <paramref name="peer"/>.</summary>
    private Dictionary<string, string?> Joining(string prefix, Uri peer, int chunkBytes = 64 << 10)
    {
        var settings = Settings("cache", prefix);
        settings["ReadHistory:Topology:Pools:0:Name"] = "default";
        settings["ReadHistory:Topology:Pools:0:Slots:0:Replicas:0"] = peer.ToString();
        settings["ReadHistory:Topology:Pools:0:Slots:0:Replicas:1"] = "http://127.0.0.1:1";
        settings["ReadHistory:Cache:Replica"] = "1";
        settings["ReadHistory:Cache:WarmStartTimeout"] = "00:00:15";
        settings["ReadHistory:Cache:WarmStartChunkBytes"] = chunkBytes.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return settings;
    }

    /// <summary>Users 1..Users with 20 reads each, written and then held in memory by the node behind <paramref name="node"/>.</summary>
    private static async Task<ConcurrentDictionary<ulong, ConcurrentDictionary<ulong, bool>>> LoadUsersAsync(CallInvoker node)
    {
        var model = new ConcurrentDictionary<ulong, ConcurrentDictionary<ulong, bool>>();
        for (ulong user = 1; user <= Users; user++)
        {
            var ids = new ConcurrentDictionary<ulong, bool>();
            for (ulong i = 0; i < 20; i++)
            {
                ids[(user * 100_000) + i] = true;
            }

            var request = new MarkReadRequest { UserId = user };
            request.Items.AddRange(ids.Keys.Select(static id => new ReadItem { ContentId = id }));
            await new CacheNodeClient(node).MarkReadAsync(new CacheMarkReadRequest { Request = request }, TestHost.Deadline()).ResponseAsync.DefaultTimeout();
            model[user] = ids;
        }

        foreach (var (user, ids) in model)
        {
            await EventuallyAsync(node, user, ids.Keys.ToArray(), static r => r.Source == AnswerSource.Memory && r.UnreadCount == 0);
        }

        return model;
    }

    /// <summary>Writes one new id per round to each user in turn until stopped; every acknowledged id goes into the model. Returns the writes.</summary>
    private static async Task<int> WriteUntilStoppedAsync(CallInvoker node, ConcurrentDictionary<ulong, ConcurrentDictionary<ulong, bool>> model, CancellationToken stop)
    {
        var written = 0;
        for (var round = 0; round < 2_000 && !stop.IsCancellationRequested; round++)
        {
            var user = (ulong)(round % Users) + 1;
            var id = (user * 100_000) + 1_000 + (ulong)round;
            await MarkAsync(node, user, id);
            model[user][id] = true;
            written++;
            await Task.Delay(5, CancellationToken.None);
        }

        return written;
    }

    private static Task<MarkReadResponse> MarkAsync(CallInvoker invoker, ulong user, ulong id) =>
        new CacheNodeClient(invoker).MarkReadAsync(new CacheMarkReadRequest { Request = new MarkReadRequest { UserId = user, Items = { new ReadItem { ContentId = id } } } }, TestHost.Deadline()).ResponseAsync.DefaultTimeout();

    private static Task<CheckResponse> CheckAsync(CallInvoker invoker, ulong user, ulong[] ids) =>
        new CacheNodeClient(invoker).CheckAsync(new CacheCheckRequest { Request = new CheckRequest { UserId = user, ContentIds = { ids } } }, TestHost.Deadline()).ResponseAsync.DefaultTimeout();

    private static async Task<PoolStats> StatsAsync(TestHost host)
    {
        using var channel = GrpcChannel.ForAddress(host.Internal);
        var response = await new CacheNodeClient(channel.CreateCallInvoker()).StatsAsync(new StatsRequest(), TestHost.Deadline()).ResponseAsync.DefaultTimeout();
        return Assert.Single(response.Pools);
    }

    // The change travels through the binlog, the CDC publisher and Redis, slow on a loaded machine.
    private static Task<CheckResponse> EventuallyAsync(CallInvoker invoker, ulong user, ulong[] ids, Func<CheckResponse, bool> done) =>
        Poll.UntilAsync(() => CheckAsync(invoker, user, ids), done, $"the answer for user {user} to change");
}
