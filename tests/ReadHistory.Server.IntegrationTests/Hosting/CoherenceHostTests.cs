using ReadHistory.Api.Internal.V1;
using ReadHistory.Api.V1;
using Grpc.Core;
using Grpc.Net.Client;
using ReadHistory.Server.IntegrationTests.Cdc;
using ReadHistory.TestSupport;
using Xunit;
using CacheNodeClient = ReadHistory.Api.Internal.V1.CacheNode.CacheNodeClient;

namespace ReadHistory.Server.IntegrationTests.Hosting;

[Collection(CdcServersFixture.Collection)]
public sealed class CoherenceHostTests(CdcServersFixture servers)
{
    [Fact]
    public async Task A_write_acknowledged_by_one_replica_is_seen_by_the_other_from_memory()
    {
        var prefix = "coh" + Guid.NewGuid().ToString("N")[..8];
        var connection = servers.MariaDb.ConnectionString();
        var redis = servers.Redis.Endpoint;
        await using var cdc = await TestHost.StartReadyAsync(TestHost.Settings("cdc", connection, prefix, redis));
        await using var replicaA = await TestHost.StartReadyAsync(TestHost.Settings("cache", connection, prefix, redis));
        await using var replicaB = await TestHost.StartReadyAsync(TestHost.Settings("cache", connection, prefix, redis));
        using var channelA = GrpcChannel.ForAddress(replicaA.Internal);
        using var channelB = GrpcChannel.ForAddress(replicaB.Internal);
        var a = channelA.CreateCallInvoker();
        var b = channelB.CreateCallInvoker();

        await Mark(a, 500, 1);
        var check = new CacheCheckRequest { Request = new CheckRequest { UserId = 500, ContentIds = { 1, 2 } } };
        var held = await EventuallyAsync(b, check, static r => r.Source == AnswerSource.Memory);
        Assert.Equal(new byte[] { 0b01 }, held.ReadBitmap.ToByteArray());

        // B now holds user 500 in memory; a write through A reaches it through the binlog and the slot's stream.
        await Mark(a, 500, 2);
        var seen = await EventuallyAsync(b, check, static r => r.UnreadCount == 0);
        Assert.Equal(AnswerSource.Memory, seen.Source);
    }

    private static Task<MarkReadResponse> Mark(CallInvoker invoker, ulong user, ulong id) =>
        new CacheNodeClient(invoker).MarkReadAsync(new CacheMarkReadRequest { Request = new MarkReadRequest { UserId = user, Items = { new ReadItem { ContentId = id } } } }, TestHost.Deadline()).ResponseAsync.DefaultTimeout();

    // The change travels through the binlog, the CDC publisher and Redis, slow on a loaded machine.
    private static Task<CheckResponse> EventuallyAsync(CallInvoker invoker, CacheCheckRequest check, Func<CheckResponse, bool> done) =>
        Poll.UntilAsync(() => new CacheNodeClient(invoker).CheckAsync(check, TestHost.Deadline()).ResponseAsync, done, "the node's answer to change");
}
