using System.Net;
using Google.Protobuf;
using Grpc.Core;
using ReadHistory.Api.V1;
using ReadHistory.Server.Tests.Hosting;
using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.Server.Tests.Conformance;

/// <summary>Malformed gRPC requests to our server (roles all): each gets a status, and the server keeps serving.</summary>
[Collection(MariaDbFixture.Collection)]
public sealed class RawRequestTests(MariaDbFixture mariaDb) : IAsyncLifetime
{
    private const string CheckPath = "/readhistory.v1.ReadHistory/Check";
    private static readonly CheckRequest Check = new() { UserId = 9, ContentType = 1, ContentIds = { 1, 2 } };
    private TestHost? _host;
    private HttpClient? _client;

    public async Task InitializeAsync()
    {
        _host = await TestHost.StartReadyAsync(TestHost.Settings("all", mariaDb.Server.ConnectionString(), "raw" + Guid.NewGuid().ToString("N")[..8]));
        _client = new HttpClient { BaseAddress = _host.Grpc };
    }

    public async Task DisposeAsync()
    {
        _client?.Dispose();
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_well_formed_raw_call_succeeds()
    {
        var response = await RawGrpc.PostAsync(_client!, CheckPath, RawGrpc.Body(RawGrpc.Frame(Check)));

        Assert.Equal(HttpStatusCode.OK, response.HttpStatus);
        Assert.Equal("application/grpc", response.ContentType);
        Assert.Equal(StatusCode.OK, response.Code);
        Assert.Equal(2u, CheckResponse.Parser.ParseFrom(response.Body.AsSpan(5)).UnreadCount);
    }

    [Theory]
    [InlineData(new byte[] { 0, 0, 0, 0, 10, 1, 2, 3 })]
    [InlineData(new byte[] { 0, 0, 0 })]
    [InlineData(new byte[] { 0 })]
    public async Task A_truncated_frame_is_internal(byte[] body)
    {
        var response = await RawGrpc.PostAsync(_client!, CheckPath, RawGrpc.Body(body));

        Assert.Equal(HttpStatusCode.OK, response.HttpStatus);
        Assert.Equal(StatusCode.Internal, response.Code);
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task An_empty_body_is_internal()
    {
        var response = await RawGrpc.PostAsync(_client!, CheckPath, RawGrpc.Body([]));

        Assert.Equal(StatusCode.Internal, response.Code);
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Two_messages_for_a_unary_call_are_internal()
    {
        var response = await RawGrpc.PostAsync(_client!, CheckPath, RawGrpc.Body([.. RawGrpc.Frame(Check), .. RawGrpc.Frame(Check)]));

        Assert.Equal(StatusCode.Internal, response.Code);
    }

    [Fact]
    public async Task A_length_prefix_over_the_limit_is_refused_before_the_message_is_sent()
    {
        // Announces 64 MiB (over ReadHistory:MaxReceiveMessageBytes) and sends 10 bytes.
        byte[] body = [0, 0x04, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

        var response = await RawGrpc.PostAsync(_client!, CheckPath, RawGrpc.Body(body));

        Assert.Equal(StatusCode.ResourceExhausted, response.Code);
        await AssertStillServingAsync();
    }

    [Theory]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF })]
    [InlineData(new byte[] { 0x0A, 0x10, 0x41 })]
    public async Task Garbage_protobuf_is_unknown_without_internals(byte[] garbage)
    {
        var response = await RawGrpc.PostAsync(_client!, CheckPath, RawGrpc.Body(RawGrpc.Frame(0, garbage)));

        // Grpc.AspNetCore parses the request before any handler or interceptor and reports a parse failure as a
        // handler exception (the stand-in said INTERNAL "failed to deserialize").
        Assert.Equal(StatusCode.Unknown, response.Code);
        Assert.Equal("Exception was thrown by handler.", response.GrpcMessage);
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task A_compressed_message_without_an_encoding_is_internal()
    {
        var response = await RawGrpc.PostAsync(_client!, CheckPath, RawGrpc.Body(RawGrpc.Frame(1, Check.ToByteArray())));

        Assert.Equal(StatusCode.Internal, response.Code);
    }

    [Theory]
    [InlineData("application/json")]
    [InlineData("text/plain")]
    [InlineData("application/grpcx")]
    public async Task A_wrong_content_type_is_415(string contentType)
    {
        var response = await RawGrpc.PostAsync(_client!, CheckPath, RawGrpc.Body(RawGrpc.Frame(Check), contentType));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.HttpStatus);
        await AssertStillServingAsync();
    }

    [Theory]
    [InlineData("application/grpc+proto")]
    [InlineData("application/grpc; charset=utf-8")]
    public async Task Content_type_variants_are_accepted(string contentType)
    {
        var response = await RawGrpc.PostAsync(_client!, CheckPath, RawGrpc.Body(RawGrpc.Frame(Check), contentType));

        Assert.Equal(StatusCode.OK, response.Code);
    }

    [Fact]
    public async Task A_compressed_message_with_an_unsupported_encoding_is_unimplemented()
    {
        var response = await RawGrpc.PostAsync(_client!, CheckPath, RawGrpc.Body(RawGrpc.Frame(1, Check.ToByteArray())), ("grpc-encoding", "br-unknown"));

        Assert.Equal(StatusCode.Unimplemented, response.Code);
        await AssertStillServingAsync();
    }

    private async Task AssertStillServingAsync()
    {
        var response = await RawGrpc.PostAsync(_client!, CheckPath, RawGrpc.Body(RawGrpc.Frame(Check)));
        Assert.Equal(StatusCode.OK, response.Code);
    }
}
