using ReadHistory.Api.Internal.V1;
using ReadHistory.Api.V1;
using Grpc.Core;
using Grpc.Net.Client;
using ReadHistory.TestSupport;
using Xunit;
using CacheNodeClient = ReadHistory.Api.Internal.V1.CacheNode.CacheNodeClient;
using ReadHistoryClient = ReadHistory.Api.V1.ReadHistory.ReadHistoryClient;

namespace ReadHistory.Server.IntegrationTests.Hosting;

[Collection(MariaDbFixture.Collection)]
public sealed class CacheRoleHostTests(MariaDbFixture mariaDb)
{
    [Fact]
    public async Task Role_all_answers_a_miss_from_the_database_then_hits_from_memory_after_the_rebuild()
    {
        await using var host = await TestHost.StartReadyAsync(TestHost.Settings("all", mariaDb.Server.ConnectionString(), Prefix()));
        using var channel = GrpcChannel.ForAddress(host.Grpc);
        var invoker = channel.CreateCallInvoker();
        await new ReadHistoryClient(invoker).MarkReadAsync(new MarkReadRequest { UserId = 9, Items = { new ReadItem { ContentId = 100 }, new ReadItem { ContentId = 101 } } }, TestHost.Deadline()).ResponseAsync.DefaultTimeout();

        var check = new CheckRequest { UserId = 9, ContentIds = { 100, 5, 101 } };
        var first = await new ReadHistoryClient(invoker).CheckAsync(check, TestHost.Deadline()).ResponseAsync.DefaultTimeout();
        Assert.Equal(AnswerSource.Database, first.Source);
        Assert.Equal(new byte[] { 0b101 }, first.ReadBitmap.ToByteArray());

        var later = await EventuallyFromMemoryAsync(invoker, check);
        Assert.Equal(new byte[] { 0b101 }, later.ReadBitmap.ToByteArray());

        // Write-through: a new read is visible from memory at once, no invalidation.
        await new ReadHistoryClient(invoker).MarkReadAsync(new MarkReadRequest { UserId = 9, Items = { new ReadItem { ContentId = 5 } } }, TestHost.Deadline()).ResponseAsync.DefaultTimeout();
        var after = await new ReadHistoryClient(invoker).CheckAsync(check, TestHost.Deadline()).ResponseAsync.DefaultTimeout();
        Assert.Equal(AnswerSource.Memory, after.Source);
        Assert.Equal(0u, after.UnreadCount);
    }

    [Fact]
    public async Task A_cache_node_serves_the_internal_api_over_grpc_including_passthrough_and_stats()
    {
        await using var host = await TestHost.StartReadyAsync(TestHost.Settings("cache", mariaDb.Server.ConnectionString(), Prefix()));
        using var channel = GrpcChannel.ForAddress(host.Internal);
        var invoker = channel.CreateCallInvoker();
        var mark = new CacheMarkReadRequest { Request = new MarkReadRequest { UserId = 11, ContentType = 2, Items = { new ReadItem { ContentId = 3 } } } };
        Assert.Equal(1u, (await new CacheNodeClient(invoker).MarkReadAsync(mark, TestHost.Deadline()).ResponseAsync.DefaultTimeout()).Written);

        var passthrough = new CacheCheckRequest { Request = new CheckRequest { UserId = 11, ContentType = 2, ContentIds = { 3, 4 } }, Passthrough = true };
        var answer = await new CacheNodeClient(invoker).CheckAsync(passthrough, TestHost.Deadline()).ResponseAsync.DefaultTimeout();
        Assert.Equal(AnswerSource.Passthrough, answer.Source);
        Assert.Equal(new byte[] { 0b01 }, answer.ReadBitmap.ToByteArray());

        var stats = await new CacheNodeClient(invoker).StatsAsync(new StatsRequest(), TestHost.Deadline()).ResponseAsync.DefaultTimeout();
        Assert.Equal("default", Assert.Single(stats.Pools).Pool);
        Assert.Equal(0UL, Assert.Single(stats.Pools).Users);

        var filter = new CacheCheckRequest { Request = new CheckRequest { UserId = 11, ContentType = 2, ContentIds = { 3, 4 } } };
        var unread = await new CacheNodeClient(invoker).FilterAsync(filter, TestHost.Deadline()).ResponseAsync.DefaultTimeout();
        Assert.Equal(new ulong[] { 4 }, unread.UnreadIds);

        var bad = new CacheCheckRequest { Request = new CheckRequest { UserId = 0, ContentIds = { 1 } } };
        var error = await Assert.ThrowsAsync<RpcException>(async () => await new CacheNodeClient(invoker).CheckAsync(bad, TestHost.Deadline())).DefaultTimeout();
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
    }

    private static string Prefix() => "node" + Guid.NewGuid().ToString("N")[..8];

    // The rebuild runs in the background and a loaded machine may take a while.
    private static Task<CheckResponse> EventuallyFromMemoryAsync(CallInvoker invoker, CheckRequest check) =>
        Poll.UntilAsync(
            () => new ReadHistoryClient(invoker).CheckAsync(check, TestHost.Deadline()).ResponseAsync,
            static r => r.Source == AnswerSource.Memory,
            "the rebuild to install the user's filter");
}
