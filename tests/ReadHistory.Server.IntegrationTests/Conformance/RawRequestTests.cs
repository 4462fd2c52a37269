using System.Net;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using ReadHistory.Api.V1;
using ReadHistory.Server.IntegrationTests.Hosting;
using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.Server.IntegrationTests.Conformance;

/// <summary>Malformed gRPC requests to our server (roles all): each gets a status, and the server keeps serving.</summary>
[Collection(MariaDbFixture.Collection)]
public sealed class RawRequestTests(MariaDbFixture mariaDb) : IAsyncLifetime
{
    private const string CheckPath = "/readhistory.v1.ReadHistory/Check";
    private const string SnapshotPath = "/readhistory.internal.v1.CacheNode/Snapshot";
    private static readonly CheckRequest Check = new() { UserId = 9, ContentType = 1, ContentIds = { 1, 2 } };
    private TestHost? _host;
    private HttpClient? _client;
    private HttpClient? _internalClient;
    private LogCapture? _logs;

    public async Task InitializeAsync()
    {
        _host = await TestHost.StartReadyAsync(TestHost.Settings("all", mariaDb.Server.ConnectionString(), "raw" + Guid.NewGuid().ToString("N")[..8]));
        _client = new HttpClient { BaseAddress = _host.Grpc };
        _internalClient = new HttpClient { BaseAddress = _host.Internal };
        _logs = LogCapture.Attach(_host);
    }

    public async Task DisposeAsync()
    {
        _client?.Dispose();
        _internalClient?.Dispose();
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
    // user_id 1, then a tenant (field 5) that is not UTF-8: proto3 strings must be, and Google.Protobuf refuses it.
    [InlineData(new byte[] { 0x09, 1, 0, 0, 0, 0, 0, 0, 0, 0x2A, 2, 0xC3, 0x28 })]
    public async Task Garbage_protobuf_is_internal_failed_to_deserialize(byte[] garbage)
    {
        var response = await RawGrpc.PostAsync(_client!, CheckPath, RawGrpc.Body(RawGrpc.Frame(0, garbage)));

        Assert.Equal(StatusCode.Internal, response.Code);
        Assert.Contains("deserialize", response.GrpcMessage, StringComparison.Ordinal);
        await AssertStillServingAsync();
        // A client's bad bytes are no server fault: Grpc.AspNetCore logs the RpcException at Information, which the
        // shipped "Grpc": "Warning" filter drops (a handler exception would be an Error with a stack trace).
        Assert.Empty(_logs!.AtOrAbove(LogLevel.Warning));
    }

    [Fact]
    public async Task Garbage_protobuf_on_the_internal_api_is_internal_failed_to_deserialize()
    {
        var response = await RawGrpc.PostAsync(_internalClient!, "/readhistory.internal.v1.CacheNode/Check", RawGrpc.Body(RawGrpc.Frame(0, [0xFF, 0xFF, 0xFF])));

        Assert.Equal(StatusCode.Internal, response.Code);
        Assert.Contains("deserialize", response.GrpcMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Garbage_protobuf_for_a_snapshot_is_internal_failed_to_deserialize()
    {
        // Snapshot is bound by its own method provider with its own marshaller; the same rule holds.
        var response = await RawGrpc.PostAsync(_internalClient!, SnapshotPath, RawGrpc.Body(RawGrpc.Frame(0, [0xFF, 0xFF, 0xFF])));

        Assert.Equal(StatusCode.Internal, response.Code);
        Assert.Contains("deserialize", response.GrpcMessage, StringComparison.Ordinal);
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

    [Fact]
    public async Task A_get_on_a_method_path_is_404()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, CheckPath);

        var response = await RawGrpc.SendAsync(_client!, request);

        // Only POST is gRPC; Grpc.AspNetCore maps its methods for POST alone and a GET finds no endpoint (the stand-in
        // said 405). Either is an HTTP error outside gRPC, and a gRPC client reads 404 as UNIMPLEMENTED.
        Assert.Equal(HttpStatusCode.NotFound, response.HttpStatus);
        Assert.Null(response.Code);
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task The_server_turns_grpc_timeout_into_deadline_exceeded()
    {
        // The request's frame header promises 10 bytes that never come, so the call can only end by its deadline.
        var content = new HeldOpenContent([0, 0, 0, 0, 10]);
        using var request = new HttpRequestMessage(HttpMethod.Post, CheckPath) { Content = content, Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        request.Headers.TryAddWithoutValidation("te", "trailers");
        request.Headers.TryAddWithoutValidation("grpc-timeout", "200m");
        var started = TimeProvider.System.GetTimestamp();

        // The answer is trailers-only (the status in the headers), and the server then resets the stream whose body
        // never ended, so only the headers are read: reading on could meet the reset first.
        using var response = await _client!.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).DefaultTimeout();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(((int)StatusCode.DeadlineExceeded).ToString(System.Globalization.CultureInfo.InvariantCulture), Assert.Single(response.Headers.GetValues("grpc-status")));
        Assert.True(TimeProvider.System.GetElapsedTime(started) < TimeSpan.FromSeconds(10));
        content.Release();
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task A_malformed_grpc_timeout_is_ignored()
    {
        var response = await RawGrpc.PostAsync(_client!, CheckPath, RawGrpc.Body(RawGrpc.Frame(Check)), ("grpc-timeout", "soon"));

        Assert.Equal(StatusCode.OK, response.Code);
    }

    [Fact]
    public async Task A_non_ascii_status_message_is_percent_encoded_on_the_wire()
    {
        var request = new ReadHistory.Api.Internal.V1.SnapshotRequest { Pool = "é 100%" };

        var response = await RawGrpc.PostAsync(_internalClient!, SnapshotPath, RawGrpc.Body(RawGrpc.Frame(request)));

        Assert.Equal(StatusCode.NotFound, response.Code);
        Assert.Equal("pool '%C3%A9 100%25' is not held by this node (it holds 'default')", response.GrpcMessage);
    }

    private async Task AssertStillServingAsync()
    {
        var response = await RawGrpc.PostAsync(_client!, CheckPath, RawGrpc.Body(RawGrpc.Frame(Check)));
        Assert.Equal(StatusCode.OK, response.Code);
    }
}
