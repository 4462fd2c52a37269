using Grpc.Core;
using Grpc.Net.Client;
using ReadHistory.Api.Internal.V1;
using ReadHistory.Api.V1;
using ReadHistory.Server.Api;
using ReadHistory.TestSupport;
using Xunit;
using CacheNodeClient = ReadHistory.Api.Internal.V1.CacheNode.CacheNodeClient;
using ReadHistoryClient = ReadHistory.Api.V1.ReadHistory.ReadHistoryClient;

namespace ReadHistory.Server.IntegrationTests.Hosting;

/// <summary>Ingest straight to a node (role all: the public API on the in-process cache node), pipelined.</summary>
[Collection(MariaDbFixture.Collection)]
public sealed class IngestPipelineTests(MariaDbFixture mariaDb)
{
    private const int Users = 6;
    private const int PerUser = 500;

    [Fact]
    public async Task Every_acknowledged_row_of_a_pipelined_stream_is_in_the_database_and_in_the_filter()
    {
        var settings = TestHost.Settings("all", mariaDb.Server.ConnectionString(), "ingest" + Guid.NewGuid().ToString("N")[..8]);
        // Small enough that the stream waits on its bound many times over.
        settings["ReadHistory:Limits:MaxIngestRowsInFlight"] = "64";
        await using var host = await TestHost.StartReadyAsync(settings);
        using var channel = GrpcChannel.ForAddress(host.Grpc);
        using var internalChannel = GrpcChannel.ForAddress(host.Internal);
        var client = new ReadHistoryClient(channel.CreateCallInvoker());
        var node = new CacheNodeClient(internalChannel.CreateCallInvoker());
        for (ulong user = 1; user <= Users; user++)
        {
            await WaitHeldAsync(client, user);
        }

        using var call = client.Ingest(new CallOptions(deadline: DateTime.UtcNow.AddSeconds(60)));
        for (var i = 0; i < PerUser; i++)
        {
            for (ulong user = 1; user <= Users; user++)
            {
                await call.RequestStream.WriteAsync(Message(user, (ulong)i + 1)).DefaultTimeout();
            }

            if (i % 100 == 0)
            {
                // Invalid messages in the middle of the stream: counted, the stream goes on.
                await call.RequestStream.WriteAsync(Message(0, 1)).DefaultTimeout();
            }
        }

        await call.RequestStream.CompleteAsync().DefaultTimeout();
        var response = await call.ResponseAsync.DefaultTimeout();

        Assert.Equal((ulong)(Users * PerUser), response.Accepted);
        Assert.Equal(5ul, response.Rejected);
        Assert.StartsWith("user_id:", response.FirstError, StringComparison.Ordinal);
        var ids = Enumerable.Range(1, PerUser).Select(i => (ulong)i).ToArray();
        for (ulong user = 1; user <= Users; user++)
        {
            // Acknowledged means applied: no waiting for the filter.
            var held = await client.CheckAsync(new CheckRequest { UserId = user, ContentIds = { ids } }, TestHost.Deadline()).ResponseAsync.DefaultTimeout();
            Assert.Equal(AnswerSource.Memory, held.Source);
            Assert.Equal(0u, held.UnreadCount);

            var stored = await node.CheckAsync(new CacheCheckRequest { Request = new CheckRequest { UserId = user, ContentIds = { ids } }, Passthrough = true }, TestHost.Deadline()).ResponseAsync.DefaultTimeout();
            Assert.Equal(AnswerSource.Passthrough, stored.Source);
            Assert.Equal(0u, stored.UnreadCount);
        }
    }

    [Fact]
    public async Task A_database_failure_in_the_middle_of_a_stream_fails_it_as_a_database_failure()
    {
        await using var server = await MariaDbServer.StartAsync();
        var settings = TestHost.Settings("all", server.ConnectionString(), "ingest" + Guid.NewGuid().ToString("N")[..8]);
        settings["ReadHistory:Database:GroupCommitMaxRetries"] = "1";
        await using var host = await TestHost.StartReadyAsync(settings);
        using var channel = GrpcChannel.ForAddress(host.Grpc);
        var client = new ReadHistoryClient(channel.CreateCallInvoker());

        using var call = client.Ingest(new CallOptions(deadline: DateTime.UtcNow.AddSeconds(60)));
        await call.RequestStream.WriteAsync(Message(9, 1)).DefaultTimeout();
        await Poll.UntilAsync(async () => (await client.CheckAsync(new CheckRequest { UserId = 9, ContentIds = { 1 } }, TestHost.Deadline()).ResponseAsync).UnreadCount == 0, "the first message to be written");
        await server.StopAsync().DefaultTimeout();
        for (ulong id = 2; id < 50; id++)
        {
            await call.RequestStream.WriteAsync(Message(9, id)).DefaultTimeout();
        }

        await call.RequestStream.CompleteAsync().DefaultTimeout();
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Equal(StorageStatus.DatabaseCause, error.Trailers.GetValue(StorageStatus.CauseTrailer));
    }

    private static IngestRequest Message(ulong user, ulong id) =>
        new() { Batch = new MarkReadRequest { UserId = user, Items = { new ReadItem { ContentId = id } } } };

    // A miss starts the user's rebuild; once it is installed the user's filter is held and writes set its bits.
    private static Task<CheckResponse> WaitHeldAsync(ReadHistoryClient client, ulong user) =>
        Poll.UntilAsync(
            () => client.CheckAsync(new CheckRequest { UserId = user, ContentIds = { 1_000_000 } }, TestHost.Deadline()).ResponseAsync,
            static r => r.Source == AnswerSource.Memory,
            "the user's filter to be held");
}
