using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using ReadHistory.Api.Internal.V1;
using ReadHistory.Api.V1;
using ReadHistory.Server.Cache;
using ReadHistory.Server.Coherence;
using ReadHistory.Server.IntegrationTests.Hosting;
using ReadHistory.TestSupport;
using Xunit;
using CacheNodeClient = ReadHistory.Api.Internal.V1.CacheNode.CacheNodeClient;

namespace ReadHistory.Server.IntegrationTests.Coherence;

/// <summary>
/// The peer fan-out between two real cache-node hosts of one slot over a real MariaDB and no Redis (so no CDC and no
/// stream): a write or Forget through replica A reaches replica B's memory at once, a peer that is down or frozen never
/// fails or holds up a write, and a node refuses changes that are not for it.
/// </summary>
[Collection(MariaDbFixture.Collection)]
public sealed class PeerFanOutTests(MariaDbFixture mariaDb)
{
    [Fact]
    public async Task A_write_through_one_replica_is_read_from_the_other_replicas_memory_without_a_change_stream()
    {
        await using var pair = await ReplicaPair.StartAsync(mariaDb, Prefix());
        const ulong user = 77;
        await MarkAsync(pair.A, user, 1);
        await HoldAsync(pair.B, user, 1);

        await MarkAsync(pair.A, user, 2);
        var answer = await CheckAsync(pair.B, user, 2, 3);

        Assert.Equal(AnswerSource.Memory, answer.Source);
        Assert.Equal(new byte[] { 0b01 }, answer.ReadBitmap.ToByteArray());
        Assert.True(Applied(pair.HostB) >= 1, "B counted no change applied from its peer");
        Assert.True(FanOut(pair.HostA).Metrics.Sent >= 1, "A counted no change sent");
    }

    [Fact]
    public async Task A_forget_through_one_replica_drops_the_user_from_the_other_replica()
    {
        await using var pair = await ReplicaPair.StartAsync(mariaDb, Prefix());
        const ulong user = 78;
        await MarkAsync(pair.A, user, 1);
        await HoldAsync(pair.B, user, 1);

        await new CacheNodeClient(pair.A).ForgetAsync(new CacheForgetRequest { Request = new ForgetUserRequest { UserId = user } }, TestHost.Deadline()).ResponseAsync.DefaultTimeout();
        var answer = await CheckAsync(pair.B, user, 1);

        Assert.Equal(AnswerSource.Database, answer.Source);
        Assert.Equal(new byte[] { 0 }, answer.ReadBitmap.ToByteArray());
    }

    [Fact]
    public async Task A_peer_that_is_down_neither_fails_nor_holds_up_a_write_and_its_changes_are_kept_for_its_return()
    {
        var settings = Node(Prefix(), FreePort.Next(), replica: 0, peer: FreePort.Next());
        await using var host = await TestHost.StartReadyAsync(settings);
        using var channel = GrpcChannel.ForAddress(host.Internal);
        var node = channel.CreateCallInvoker();
        var fanOut = FanOut(host);

        for (ulong i = 1; i <= 10; i++)
        {
            var written = await MarkAsync(node, 90, i);
            Assert.True(written < TimeSpan.FromSeconds(2), $"write {i} took {written}");
        }

        Assert.True(fanOut.Metrics.CallsFailed >= 1, "no failed call to the peer was counted");
        Assert.True(fanOut.Senders[0].Queued >= 1, "the changes for the failing peer were not kept for its return");
        Assert.Equal(10, fanOut.Metrics.Waits);
    }

    [Fact]
    public async Task A_frozen_peer_holds_a_write_up_for_the_wait_bound_only_and_its_queue_stays_bounded()
    {
        // Accepts connections and never answers: each call to it would last until its deadline (a minute here).
        using var frozen = new TcpListener(IPAddress.Loopback, 0);
        frozen.Start(backlog: 16);
        var settings = Node(Prefix(), FreePort.Next(), replica: 0, peer: ((IPEndPoint)frozen.LocalEndpoint).Port);
        settings["ReadHistory:Cache:PeerFanOutWait"] = "00:00:00.050";
        settings["ReadHistory:Cache:PeerFanOutCallTimeout"] = "00:01:00";
        settings["ReadHistory:Cache:PeerFanOutMaxQueuedChanges"] = "3";
        await using var host = await TestHost.StartReadyAsync(settings);
        using var channel = GrpcChannel.ForAddress(host.Internal);
        var node = channel.CreateCallInvoker();
        var fanOut = FanOut(host);

        for (ulong i = 1; i <= 6; i++)
        {
            var written = await MarkAsync(node, 91, i);
            Assert.True(written < TimeSpan.FromSeconds(5), $"write {i} took {written}, the call deadline is a minute");
        }

        Assert.Equal(3, fanOut.Metrics.DroppedQueueFull);
        Assert.Equal(3, fanOut.Senders.Single().Queued);
        Assert.Equal(6, fanOut.Metrics.Waits);
    }

    [Fact]
    public async Task A_write_the_proxy_moved_off_the_sessions_replica_waits_for_that_replica_past_the_bound()
    {
        // The peer accepts and never answers: a moved write (until_peers_applied) waits for the call's deadline (2 s),
        // after which the peer is failing and nobody waits for it; an ordinary write waits for the bound only.
        using var frozen = new TcpListener(IPAddress.Loopback, 0);
        frozen.Start(backlog: 16);
        var settings = Node(Prefix(), FreePort.Next(), replica: 0, peer: ((IPEndPoint)frozen.LocalEndpoint).Port);
        settings["ReadHistory:Cache:PeerFanOutWait"] = "00:00:00.010";
        settings["ReadHistory:Cache:PeerFanOutCallTimeout"] = "00:00:02";
        await using var host = await TestHost.StartReadyAsync(settings);
        using var channel = GrpcChannel.ForAddress(host.Internal);
        var node = channel.CreateCallInvoker();

        var ordinary = await MarkAsync(node, 92, 1);
        var moved = await MarkAsync(node, 92, 2, untilPeersApplied: true);

        Assert.True(ordinary < TimeSpan.FromSeconds(1.5), $"an ordinary write took {ordinary}");
        Assert.True(moved >= TimeSpan.FromSeconds(1), $"a moved write took {moved}: it did not wait for the peer");
        Assert.True(FanOut(host).Senders.Single().InBackoff);
    }

    [Fact]
    public async Task A_node_refuses_changes_of_another_pool_or_slot_and_more_changes_than_its_bound()
    {
        var settings = Node(Prefix(), FreePort.Next(), replica: 1, peer: FreePort.Next());
        settings["ReadHistory:Cache:PeerFanOutMaxChangesPerCall"] = "4";
        await using var host = await TestHost.StartReadyAsync(settings);
        using var channel = GrpcChannel.ForAddress(host.Internal);
        var node = new CacheNodeClient(channel.CreateCallInvoker());

        var otherPool = await RefusedAsync(node, new ApplyChangesRequest { Pool = "push", Slot = 0, Changes = { Ids(1, 1) } });
        var otherSlot = await RefusedAsync(node, new ApplyChangesRequest { Pool = "default", Slot = 1, Changes = { Ids(1, 1) } });
        var oversize = await RefusedAsync(node, new ApplyChangesRequest { Pool = "default", Slot = 0, Changes = { Ids(1, 1, 2), Ids(2, 3, 4, 5) } });
        var fits = await node.ApplyChangesAsync(new ApplyChangesRequest { Pool = "default", Slot = 0, Changes = { Ids(1, 1, 2), Ids(2, 3), new UserChanges { UserId = 3, DeleteUser = true } } }, TestHost.Deadline()).ResponseAsync.DefaultTimeout();

        Assert.Equal(StatusCode.FailedPrecondition, otherPool.StatusCode);
        Assert.Contains("pool 'push' slot 0", otherPool.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("pool 'default' slot 0", otherPool.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(StatusCode.FailedPrecondition, otherSlot.StatusCode);
        Assert.Contains("slot 1", otherSlot.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(StatusCode.InvalidArgument, oversize.StatusCode);
        Assert.Contains("changes: more than 4", oversize.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(4u, fits.Applied);
        Assert.Equal(4, Applied(host));
    }

    private static UserChanges Ids(ulong user, params ulong[] ids) => new() { UserId = user, ContentType = 0, ContentIds = { ids } };

    private static async Task<RpcException> RefusedAsync(CacheNodeClient node, ApplyChangesRequest request) =>
        await Assert.ThrowsAsync<RpcException>(async () => await node.ApplyChangesAsync(request, TestHost.Deadline())).DefaultTimeout();

    private static async Task<CheckResponse> CheckAsync(CallInvoker node, ulong user, params ulong[] ids)
    {
        var request = new CacheCheckRequest { Request = new CheckRequest { UserId = user, ContentIds = { ids } } };
        return await new CacheNodeClient(node).CheckAsync(request, TestHost.Deadline()).ResponseAsync.DefaultTimeout();
    }

    /// <summary>Makes <paramref name="node"/> hold the user's filter: a check misses and starts the rebuild; wait until it answers from memory.</summary>
    private static Task<CheckResponse> HoldAsync(CallInvoker node, ulong user, ulong id) =>
        Poll.UntilAsync(() => CheckAsync(node, user, id), static r => r.Source == AnswerSource.Memory, "the replica to rebuild the user's filter");

    private static async Task<TimeSpan> MarkAsync(CallInvoker node, ulong user, ulong id, bool untilPeersApplied = false)
    {
        var started = Stopwatch.GetTimestamp();
        var request = new CacheMarkReadRequest { Request = new MarkReadRequest { UserId = user, Items = { new ReadItem { ContentId = id } } }, UntilPeersApplied = untilPeersApplied };
        await new CacheNodeClient(node).MarkReadAsync(request, TestHost.Deadline()).ResponseAsync.DefaultTimeout();
        return Stopwatch.GetElapsedTime(started);
    }

    private static PeerFanOut FanOut(TestHost host) => Assert.IsType<PeerFanOut>(host.App.Services.GetRequiredService<CommittedChangeSink>());

    private static long Applied(TestHost host) => host.App.Services.GetRequiredService<CacheNodeHost>().Current!.Metrics.PeerChangesApplied;

    private static string Prefix() => "fan" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>A cache node (no Redis) listening on <paramref name="port"/>, replica <paramref name="replica"/> of slot 0 whose other replica listens on <paramref name="peer"/>.</summary>
    private Dictionary<string, string?> Node(string prefix, int port, int replica, int peer)
    {
        var settings = TestHost.Settings("cache", mariaDb.Server.ConnectionString(), prefix);
        var self = "http://127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture);
        var other = "http://127.0.0.1:" + peer.ToString(CultureInfo.InvariantCulture);
        settings["ReadHistory:InternalGrpcListen"] = "127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture);
        settings["ReadHistory:Topology:Pools:0:Name"] = "default";
        settings["ReadHistory:Topology:Pools:0:Slots:0:Replicas:0"] = replica == 0 ? self : other;
        settings["ReadHistory:Topology:Pools:0:Slots:0:Replicas:1"] = replica == 0 ? other : self;
        settings["ReadHistory:Cache:Slot"] = "0";
        settings["ReadHistory:Cache:Replica"] = replica.ToString(CultureInfo.InvariantCulture);
        return settings;
    }

    /// <summary>
    /// Replicas A (0) and B (1) of slot 0, each the other's peer; a write waits for its peer (bound: 10 s) so that a
    /// check after it is deterministic. The fan-out between them runs over mutual TLS, as in production.
    /// </summary>
    private sealed class ReplicaPair : IAsyncDisposable
    {
        private readonly TestCertificateAuthority _ca = TestCertificateAuthority.Create();
        private GrpcChannel? _channelA;
        private GrpcChannel? _channelB;

        public TestHost HostA { get; private set; } = null!;

        public TestHost HostB { get; private set; } = null!;

        public CallInvoker A { get; private set; } = null!;

        public CallInvoker B { get; private set; } = null!;

        public static async Task<ReplicaPair> StartAsync(MariaDbFixture mariaDb, string prefix)
        {
            var test = new PeerFanOutTests(mariaDb);
            int portA = FreePort.Next(), portB = FreePort.Next();
            var a = test.Node(prefix, portA, replica: 0, peer: portB);
            var b = test.Node(prefix, portB, replica: 1, peer: portA);
            a["ReadHistory:Cache:PeerFanOutWait"] = "00:00:01";
            b["ReadHistory:Cache:PeerFanOutWait"] = "00:00:01";
            var pair = new ReplicaPair();
            pair.WithInternalTls(a, "replica-a");
            pair.WithInternalTls(b, "replica-b");
            pair.HostA = await TestHost.StartReadyAsync(a);
            pair.HostB = await TestHost.StartReadyAsync(b);
            pair._channelA = pair.HostA.InternalChannel();
            pair._channelB = pair.HostB.InternalChannel();
            pair.A = pair._channelA.CreateCallInvoker();
            pair.B = pair._channelB.CreateCallInvoker();
            return pair;
        }

        public async ValueTask DisposeAsync()
        {
            _channelA?.Dispose();
            _channelB?.Dispose();
            await HostB.DisposeAsync();
            await HostA.DisposeAsync();
            _ca.Dispose();
        }

        // The node's own certificate of the pair's CA, and its replicas named https://.
        private void WithInternalTls(Dictionary<string, string?> settings, string subject)
        {
            foreach (var (key, value) in _ca.InternalTlsSettings(_ca.Issue(subject)))
            {
                settings[key] = value;
            }

            foreach (var key in settings.Keys.Where(k => k.Contains(":Replicas:", StringComparison.Ordinal)).ToList())
            {
                settings[key] = "https" + settings[key]!["http".Length..];
            }
        }
    }
}
