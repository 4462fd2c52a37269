using Grpc.Core;
using Grpc.Net.Client;
using ReadHistory.Api.Internal.V1;
using ReadHistory.Api.V1;
using ReadHistory.TestSupport;
using Xunit;
using CacheNodeClient = ReadHistory.Api.Internal.V1.CacheNode.CacheNodeClient;
using ReadHistoryClient = ReadHistory.Api.V1.ReadHistory.ReadHistoryClient;

namespace ReadHistory.Server.IntegrationTests.Hosting;

/// <summary>The bounds of an Ingest stream (Limits:MaxIngestMessagesPerStream, Limits:IngestIdleTimeout), public and internal, over real gRPC.</summary>
[Collection(MariaDbFixture.Collection)]
public sealed class IngestLimitTests(MariaDbFixture mariaDb)
{
    [Fact]
    public async Task A_public_ingest_stream_past_its_message_bound_ends_resource_exhausted_naming_the_limit()
    {
        await using var host = await StartAsync(maxMessages: 3);
        using var channel = GrpcChannel.ForAddress(host.Grpc);
        using var call = new ReadHistoryClient(channel).Ingest(TestHost.Deadline());

        var error = await SendAndFailAsync(call.RequestStream, call.ResponseAsync, id => new IngestRequest { Batch = Mark(id) }, messages: 4);

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Contains("Limits:MaxIngestMessagesPerStream", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_public_ingest_stream_within_its_message_bound_is_accepted()
    {
        await using var host = await StartAsync(maxMessages: 3);
        using var channel = GrpcChannel.ForAddress(host.Grpc);
        using var call = new ReadHistoryClient(channel).Ingest(TestHost.Deadline());
        for (ulong id = 1; id <= 3; id++)
        {
            await call.RequestStream.WriteAsync(new IngestRequest { Batch = Mark(id) }).DefaultTimeout();
        }

        await call.RequestStream.CompleteAsync().DefaultTimeout();

        Assert.Equal(3ul, (await call.ResponseAsync.DefaultTimeout()).Accepted);
    }

    [Fact]
    public async Task An_internal_ingest_stream_past_its_message_bound_ends_resource_exhausted_naming_the_limit()
    {
        await using var host = await StartAsync(maxMessages: 3);
        using var channel = GrpcChannel.ForAddress(host.Internal);
        using var call = new CacheNodeClient(channel).Ingest(TestHost.Deadline());

        var error = await SendAndFailAsync(call.RequestStream, call.ResponseAsync, id => new CacheIngestRequest { Request = Mark(id) }, messages: 4);

        Assert.Equal(StatusCode.ResourceExhausted, error.StatusCode);
        Assert.Contains("Limits:MaxIngestMessagesPerStream", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_public_ingest_stream_that_goes_quiet_ends_deadline_exceeded_naming_the_limit()
    {
        await using var host = await StartAsync(idle: "00:00:00.500");
        using var channel = GrpcChannel.ForAddress(host.Grpc);
        using var call = new ReadHistoryClient(channel).Ingest(TestHost.Deadline());
        await call.RequestStream.WriteAsync(new IngestRequest { Batch = Mark(1) }).DefaultTimeout();

        // Nothing more is sent, and the stream is not completed.
        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        Assert.Contains("Limits:IngestIdleTimeout", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_internal_ingest_stream_that_goes_quiet_ends_deadline_exceeded_naming_the_limit()
    {
        await using var host = await StartAsync(idle: "00:00:00.500");
        using var channel = GrpcChannel.ForAddress(host.Internal);
        using var call = new CacheNodeClient(channel).Ingest(TestHost.Deadline());
        await call.RequestStream.WriteAsync(new CacheIngestRequest { Request = Mark(1) }).DefaultTimeout();

        var error = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        Assert.Contains("Limits:IngestIdleTimeout", error.Status.Detail, StringComparison.Ordinal);
    }

    private async Task<TestHost> StartAsync(int? maxMessages = null, string? idle = null)
    {
        var settings = TestHost.Settings("all", mariaDb.Server.ConnectionString(), "ingestlimit" + Guid.NewGuid().ToString("N")[..8]);
        if (maxMessages is { } max)
        {
            settings["ReadHistory:Limits:MaxIngestMessagesPerStream"] = max.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (idle is not null)
        {
            settings["ReadHistory:Limits:IngestIdleTimeout"] = idle;
        }

        return await TestHost.StartReadyAsync(settings);
    }

    private static MarkReadRequest Mark(ulong id) => new() { UserId = 5, Items = { new ReadItem { ContentId = id } } };

    // Writes until the server ends the call (a write then fails) or all are sent, then reads the call's status.
    private static async Task<RpcException> SendAndFailAsync<T>(IClientStreamWriter<T> requests, Task response, Func<ulong, T> message, int messages)
    {
        try
        {
            for (ulong id = 1; id <= (ulong)messages; id++)
            {
                await requests.WriteAsync(message(id)).DefaultTimeout();
            }

            await requests.CompleteAsync().DefaultTimeout();
        }
        catch (RpcException)
        {
            // The server answered before the last write; its status is the call's.
        }

        return await Assert.ThrowsAsync<RpcException>(() => response).DefaultTimeout();
    }
}
