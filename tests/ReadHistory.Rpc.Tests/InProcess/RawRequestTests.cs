using System.Net;
using ReadHistory.Rpc.Tests.Conformance.V1;
using ReadHistory.Rpc.Tests.Infrastructure;
using Xunit;

namespace ReadHistory.Rpc.Tests.InProcess;

/// <summary>Bad input our client never sends, from a plain HttpClient: each gets the spec's answer and the server keeps serving.</summary>
public class RawRequestTests(EchoServerFixture fixture) : IClassFixture<EchoServerFixture>
{
    private const string UnaryPath = "/conformance.v1.Echo/Unary";

    [Fact]
    public async Task A_well_formed_raw_call_succeeds()
    {
        using var client = fixture.Server.CreateRawClient();

        var response = await RawGrpc.PostAsync(client, UnaryPath, RawGrpc.Body(RawGrpc.Frame(new EchoRequest { Text = "raw" })));

        Assert.Equal(HttpStatusCode.OK, response.HttpStatus);
        Assert.Equal("application/grpc", response.ContentType);
        Assert.Equal(StatusCode.OK, response.Code);
        Assert.False(response.TrailersOnly);
        Assert.Equal("raw", EchoReply.Parser.ParseFrom(response.Body.AsSpan(5)).Text);
    }

    [Theory]
    [InlineData(new byte[] { 0, 0, 0, 0, 10, 1, 2, 3 })]
    [InlineData(new byte[] { 0, 0, 0 })]
    [InlineData(new byte[] { 0 })]
    public async Task A_truncated_frame_is_internal(byte[] body)
    {
        using var client = fixture.Server.CreateRawClient();

        var response = await RawGrpc.PostAsync(client, UnaryPath, RawGrpc.Body(body));

        Assert.Equal(HttpStatusCode.OK, response.HttpStatus);
        Assert.Equal(StatusCode.Internal, response.Code);
        Assert.True(response.TrailersOnly);
        await AssertStillServingAsync(client);
    }

    [Fact]
    public async Task An_empty_body_is_internal()
    {
        using var client = fixture.Server.CreateRawClient();

        var response = await RawGrpc.PostAsync(client, UnaryPath, RawGrpc.Body([]));

        Assert.Equal(StatusCode.Internal, response.Code);
        await AssertStillServingAsync(client);
    }

    [Fact]
    public async Task Two_messages_for_a_unary_call_are_internal()
    {
        using var client = fixture.Server.CreateRawClient();
        var frame = RawGrpc.Frame(new EchoRequest { Text = "a" });

        var response = await RawGrpc.PostAsync(client, UnaryPath, RawGrpc.Body([.. frame, .. frame]));

        Assert.Equal(StatusCode.Internal, response.Code);
    }

    [Fact]
    public async Task A_length_prefix_over_the_limit_is_refused_before_the_message_is_sent()
    {
        using var client = fixture.Server.CreateRawClient();
        var content = new HeldOpenContent([0, 0, 0xA0, 0, 0]);

        var response = await RawGrpc.PostAsync(client, UnaryPath, content);

        Assert.Equal(StatusCode.ResourceExhausted, response.Code);
        Assert.True(response.TrailersOnly);
        content.Release();
        await AssertStillServingAsync(client);
    }

    [Theory]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF })]
    [InlineData(new byte[] { 0x0A, 0x10, 0x41 })]
    public async Task Garbage_protobuf_is_internal_failed_to_deserialize(byte[] garbage)
    {
        using var client = fixture.Server.CreateRawClient();

        var response = await RawGrpc.PostAsync(client, UnaryPath, RawGrpc.Body(RawGrpc.Frame(0, garbage)));

        Assert.Equal(StatusCode.Internal, response.Code);
        Assert.Contains("deserialize", response.GrpcMessage, StringComparison.Ordinal);
        await AssertStillServingAsync(client);
    }

    [Fact]
    public async Task An_unknown_compressed_flag_is_internal()
    {
        using var client = fixture.Server.CreateRawClient();

        var response = await RawGrpc.PostAsync(client, UnaryPath, RawGrpc.Body(RawGrpc.Frame(2, [])));

        Assert.Equal(StatusCode.Internal, response.Code);
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("text/plain")]
    [InlineData("application/grpc+json")]
    [InlineData("application/grpcx")]
    public async Task A_wrong_content_type_is_415(string contentType)
    {
        using var client = fixture.Server.CreateRawClient();

        var response = await RawGrpc.PostAsync(client, UnaryPath, RawGrpc.Body(RawGrpc.Frame(new EchoRequest()), contentType));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.HttpStatus);
        await AssertStillServingAsync(client);
    }

    [Theory]
    [InlineData("application/grpc+proto")]
    [InlineData("application/grpc; charset=utf-8")]
    public async Task Content_type_variants_are_accepted(string contentType)
    {
        using var client = fixture.Server.CreateRawClient();

        var response = await RawGrpc.PostAsync(client, UnaryPath, RawGrpc.Body(RawGrpc.Frame(new EchoRequest()), contentType));

        Assert.Equal(StatusCode.OK, response.Code);
    }

    [Fact]
    public async Task A_get_is_405()
    {
        using var client = fixture.Server.CreateRawClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, UnaryPath);

        var response = await RawGrpc.SendAsync(client, request);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.HttpStatus);
        await AssertStillServingAsync(client);
    }

    [Fact]
    public async Task The_server_turns_grpc_timeout_into_deadline_exceeded()
    {
        using var client = fixture.Server.CreateRawClient();
        var started = DateTime.UtcNow;

        var response = await RawGrpc.PostAsync(client, UnaryPath, RawGrpc.Body(RawGrpc.Frame(new EchoRequest { DelayMs = 20_000 })), ("grpc-timeout", "200m"));

        Assert.Equal(StatusCode.DeadlineExceeded, response.Code);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(15));
    }

    [Fact]
    public async Task A_malformed_grpc_timeout_is_ignored()
    {
        using var client = fixture.Server.CreateRawClient();

        var response = await RawGrpc.PostAsync(client, UnaryPath, RawGrpc.Body(RawGrpc.Frame(new EchoRequest { Text = "t" })), ("grpc-timeout", "soon"));

        Assert.Equal(StatusCode.OK, response.Code);
    }

    [Fact]
    public async Task A_non_ascii_status_message_is_percent_encoded_on_the_wire()
    {
        using var client = fixture.Server.CreateRawClient();

        var response = await RawGrpc.PostAsync(client, UnaryPath, RawGrpc.Body(RawGrpc.Frame(new EchoRequest { FailCode = 9, FailMessage = "é 100%" })));

        Assert.Equal(StatusCode.FailedPrecondition, response.Code);
        Assert.Equal("%C3%A9 100%25", response.GrpcMessage);
    }

    [Fact]
    public async Task A_compressed_message_with_an_unsupported_encoding_is_unimplemented()
    {
        using var client = fixture.Server.CreateRawClient();

        var response = await RawGrpc.PostAsync(client, UnaryPath, RawGrpc.Body(RawGrpc.Frame(1, [1, 2, 3])), ("grpc-encoding", "snappy"));

        Assert.Equal(StatusCode.Unimplemented, response.Code);
        await AssertStillServingAsync(client);
    }

    [Fact]
    public async Task An_uncompressed_message_with_an_unknown_encoding_header_is_fine()
    {
        using var client = fixture.Server.CreateRawClient();

        var response = await RawGrpc.PostAsync(client, UnaryPath, RawGrpc.Body(RawGrpc.Frame(new EchoRequest { Text = "plain" })), ("grpc-encoding", "snappy"));

        Assert.Equal(StatusCode.OK, response.Code);
    }

    [Fact]
    public async Task A_grpc_request_to_an_unknown_path_is_unimplemented_trailers_only()
    {
        using var client = fixture.Server.CreateRawClient();

        var response = await RawGrpc.PostAsync(client, "/nope.Service/Method", RawGrpc.Body(RawGrpc.Frame(new EchoRequest())));

        Assert.Equal(HttpStatusCode.OK, response.HttpStatus);
        Assert.Equal(StatusCode.Unimplemented, response.Code);
        Assert.True(response.TrailersOnly);
    }

    [Fact]
    public async Task A_non_grpc_request_to_an_unknown_path_is_404()
    {
        using var client = fixture.Server.CreateRawClient();

        var response = await RawGrpc.PostAsync(client, "/nope.Service/Method", RawGrpc.Body([1], "application/json"));

        Assert.Equal(HttpStatusCode.NotFound, response.HttpStatus);
    }

    private static async Task AssertStillServingAsync(HttpClient client)
    {
        var response = await RawGrpc.PostAsync(client, UnaryPath, RawGrpc.Body(RawGrpc.Frame(new EchoRequest { Text = "alive" })));
        Assert.Equal(StatusCode.OK, response.Code);
        Assert.Equal("alive", EchoReply.Parser.ParseFrom(response.Body.AsSpan(5)).Text);
    }

    /// <summary>Sends some bytes and then holds the request body open, as a client streaming a huge message would.</summary>
    private sealed class HeldOpenContent : HttpContent
    {
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly byte[] _first;

        public HeldOpenContent(byte[] first)
        {
            _first = first;
            Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/grpc");
        }

        public void Release() => _release.TrySetResult();

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(_first);
            await stream.FlushAsync();
            await _release.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = -1;
            return false;
        }
    }
}
