using System.Net;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using ReadHistory.Api.V1;
using ReadHistory.Server.IntegrationTests.Conformance;
using ReadHistory.TestSupport;
using Xunit;
using ReadHistoryClient = ReadHistory.Api.V1.ReadHistory.ReadHistoryClient;

namespace ReadHistory.Server.IntegrationTests.Hosting;

/// <summary>
/// What the fuzzer found at the transport (issue 20): a stalled call, a call reset mid-request, a method path in
/// another case. Each over real HTTP/2 against a host of role all.
/// </summary>
[Collection(MariaDbFixture.Collection)]
public sealed class CallGuardTests(MariaDbFixture mariaDb)
{
    private const string CheckPath = "/readhistory.v1.ReadHistory/Check";
    private static readonly CheckRequest Check = new() { UserId = 9, ContentType = 1, ContentIds = { 1, 2 } };

    [Fact]
    public async Task A_stalled_call_fails_alone_and_the_calls_sharing_its_connection_go_on()
    {
        var settings = Settings("stall");
        settings["ReadHistory:Limits:RequestBodyTimeout"] = "00:00:01";
        await using var host = await TestHost.StartReadyAsync(settings);
        var logs = LogCapture.Attach(host);
        // One handler, one HTTP/2 connection: the channel's calls and the raw call share it.
        using var http = new HttpClient(new SocketsHttpHandler { EnableMultipleHttp2Connections = false }) { BaseAddress = host.Grpc };
        using var channel = GrpcChannel.ForAddress(host.Grpc, new GrpcChannelOptions { HttpClient = http });
        var client = new ReadHistoryClient(channel);
        await client.CheckAsync(Check, TestHost.Deadline()).ResponseAsync.DefaultTimeout();
        using var ingest = client.Ingest(TestHost.Deadline());
        await ingest.RequestStream.WriteAsync(Mark(1)).DefaultTimeout();

        // The frame header promises 10 bytes that never come, and the call sets no deadline of its own.
        var stalled = new HeldOpenContent([0, 0, 0, 0, 10]);
        using var request = new HttpRequestMessage(HttpMethod.Post, CheckPath) { Content = stalled, Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        request.Headers.TryAddWithoutValidation("te", "trailers");
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).DefaultTimeout();
        var healthy = await client.CheckAsync(Check, TestHost.Deadline()).ResponseAsync.DefaultTimeout();
        await ingest.RequestStream.WriteAsync(Mark(2)).DefaultTimeout();
        await ingest.RequestStream.CompleteAsync().DefaultTimeout();
        var ingested = await ingest.ResponseAsync.DefaultTimeout();
        stalled.Release();

        Assert.Equal(((int)StatusCode.DeadlineExceeded).ToString(System.Globalization.CultureInfo.InvariantCulture), Assert.Single(response.Headers.GetValues("grpc-status")));
        Assert.Contains("RequestBodyTimeout", Assert.Single(response.Headers.GetValues("grpc-message")), StringComparison.Ordinal);
        Assert.Equal(2u, healthy.UnreadCount);
        Assert.Equal(2ul, ingested.Accepted);
        var logged = Assert.Single(logs.AtOrAbove(LogLevel.Information), l => l.Contains("RequestBodyTimeout", StringComparison.Ordinal));
        Assert.Contains("127.0.0.1:", logged, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Check")]
    [InlineData("Ingest")]
    public async Task A_call_the_client_resets_mid_request_counts_as_cancelled_and_logs_no_error(string method)
    {
        await using var host = await TestHost.StartReadyAsync(Settings("reset"));
        var logs = LogCapture.Attach(host);
        using var http = new HttpClient { BaseAddress = host.Grpc };
        // Ingest: one whole message, then half of the next; Check: half of its only message. Then the body fails,
        // and the client resets the stream.
        byte[] sent = method == "Ingest"
            ? [.. RawGrpc.Frame(Mark(1)), .. RawGrpc.Frame(Mark(2)).AsSpan(0, 6)]
            : RawGrpc.Frame(Check).AsSpan(0, 6).ToArray();
        var content = new AbortedContent(sent);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/readhistory.v1.ReadHistory/" + method) { Content = content, Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        request.Headers.TryAddWithoutValidation("te", "trailers");

        await Assert.ThrowsAnyAsync<Exception>(async () => (await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead)).Dispose()).DefaultTimeout();

        using var scraper = new HttpClient();
        var metrics = await Poll.UntilAsync(
            () => scraper.GetStringAsync(new Uri(host.Http, "/metrics")),
            text => text.Contains($"readhistory_rpc_requests_total{{code=\"CANCELLED\",method=\"{method}\"", StringComparison.Ordinal),
            "the reset call to be counted");
        Assert.DoesNotContain("code=\"UNKNOWN\"", metrics, StringComparison.Ordinal);
        Assert.Empty(logs.AtOrAbove(LogLevel.Warning));
    }

    [Fact]
    public async Task A_method_path_in_another_case_is_unimplemented()
    {
        await using var host = await TestHost.StartReadyAsync(Settings("case"));
        using var channel = GrpcChannel.ForAddress(host.Grpc);
        var invoker = channel.CreateCallInvoker();
        var exact = Method("readhistory.v1.ReadHistory", "Check");
        var lower = Method("readhistory.v1.readhistory", "check");
        var upper = Method("READHISTORY.V1.READHISTORY", "CHECK");

        var answered = await invoker.AsyncUnaryCall(exact, null, TestHost.Deadline(), Check).ResponseAsync.DefaultTimeout();
        var lowerError = await Assert.ThrowsAsync<RpcException>(() => invoker.AsyncUnaryCall(lower, null, TestHost.Deadline(), Check).ResponseAsync).DefaultTimeout();
        var upperError = await Assert.ThrowsAsync<RpcException>(() => invoker.AsyncUnaryCall(upper, null, TestHost.Deadline(), Check).ResponseAsync).DefaultTimeout();

        Assert.Equal(2u, answered.UnreadCount);
        Assert.Equal(StatusCode.Unimplemented, lowerError.StatusCode);
        Assert.Equal(StatusCode.Unimplemented, upperError.StatusCode);
    }

    [Fact]
    public async Task Metadata_past_the_header_limit_fails_that_call_alone()
    {
        await using var host = await TestHost.StartReadyAsync(Settings("headers"));
        using var http = new HttpClient(new SocketsHttpHandler { EnableMultipleHttp2Connections = false }) { BaseAddress = host.Grpc };
        using var channel = GrpcChannel.ForAddress(host.Grpc, new GrpcChannelOptions { HttpClient = http });
        var client = new ReadHistoryClient(channel);
        using var ingest = client.Ingest(TestHost.Deadline());
        await ingest.RequestStream.WriteAsync(Mark(1)).DefaultTimeout();
        var big = new Metadata { { "x-padding", new string('p', 20_000) } };
        // One round trip first: the client has then read Kestrel's SETTINGS frame, which comes first on the connection.
        // Without it the oversized headers can leave before the client knows the limit, and Kestrel then closes the whole
        // connection (COMPRESSION_ERROR), as it does for any client that ignores the limit.
        await client.CheckAsync(Check, TestHost.Deadline()).ResponseAsync.DefaultTimeout();

        // Kestrel advertises Connections:MaxRequestHeadersTotalSize in its HTTP/2 settings; the client refuses the call itself.
        var refused = await Assert.ThrowsAsync<RpcException>(() => client.CheckAsync(Check, big, DateTime.UtcNow.AddSeconds(20)).ResponseAsync).DefaultTimeout();
        var after = await client.CheckAsync(Check, TestHost.Deadline()).ResponseAsync.DefaultTimeout();
        await ingest.RequestStream.WriteAsync(Mark(2)).DefaultTimeout();
        await ingest.RequestStream.CompleteAsync().DefaultTimeout();
        var ingested = await ingest.ResponseAsync.DefaultTimeout();

        Assert.Contains("16384", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(2u, after.UnreadCount);
        Assert.Equal(2ul, ingested.Accepted);
    }

    private Dictionary<string, string?> Settings(string prefix) =>
        TestHost.Settings("all", mariaDb.Server.ConnectionString(), prefix + Guid.NewGuid().ToString("N")[..8]);

    private static IngestRequest Mark(ulong id) =>
        new() { Batch = new MarkReadRequest { UserId = 7, Items = { new ReadItem { ContentId = id } } } };

    private static Method<CheckRequest, CheckResponse> Method(string service, string name) =>
        new(MethodType.Unary, service, name, Marshallers.Create(static m => m.ToByteArray(), CheckRequest.Parser.ParseFrom), Marshallers.Create(static m => m.ToByteArray(), CheckResponse.Parser.ParseFrom));

    /// <summary>A request body that sends some bytes, then fails: the client resets the stream mid-request.</summary>
    private sealed class AbortedContent : HttpContent
    {
        private readonly byte[] _first;

        public AbortedContent(byte[] first)
        {
            _first = first;
            Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/grpc");
        }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(_first);
            await stream.FlushAsync();
            // Let the server read what was sent before the reset arrives.
            await Task.Delay(200);
            throw new IOException("the client gave up mid-request");
        }

        protected override bool TryComputeLength(out long length)
        {
            length = -1;
            return false;
        }
    }
}
