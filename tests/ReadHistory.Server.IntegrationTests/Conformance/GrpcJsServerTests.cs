using System.Diagnostics;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using ReadHistory.Server.IntegrationTests.Conformance.V1;
using ReadHistory.TestSupport;
using Xunit;
using EchoClient = ReadHistory.Server.IntegrationTests.Conformance.V1.Echo.EchoClient;

namespace ReadHistory.Server.IntegrationTests.Conformance;

/// <summary>Grpc.Net.Client, as the proxy, CLI and warm start use it, calls the independent @grpc/grpc-js echo server.</summary>
public sealed class GrpcJsServerTests(NodeServerFixture fixture) : IClassFixture<NodeServerFixture>, IDisposable
{
    private static readonly Marshaller<EchoRequest> Request = Marshallers.Create(static r => r.ToByteArray(), EchoRequest.Parser.ParseFrom);
    private static readonly Marshaller<EchoReply> Reply = Marshallers.Create(static r => r.ToByteArray(), EchoReply.Parser.ParseFrom);

    /// <summary>A method the server does not have.</summary>
    private static readonly Method<EchoRequest, EchoReply> Missing = new(MethodType.Unary, "conformance.v1.Echo", "Missing", Request, Reply);

    /// <summary>A service the server does not have.</summary>
    private static readonly Method<EchoRequest, EchoReply> MissingService = new(MethodType.Unary, "conformance.v1.Nowhere", "Unary", Request, Reply);

    private readonly GrpcChannel _channel = GrpcChannel.ForAddress(fixture.Server.Address);

    private CallInvoker Invoker => _channel.CreateCallInvoker();

    public void Dispose() => _channel.Dispose();

    [Fact]
    public async Task Unary()
    {
        var reply = await new EchoClient(Invoker).UnaryAsync(new EchoRequest { Text = "hello", Payload = ByteString.CopyFrom(1, 2, 3) }, new CallOptions()).ResponseAsync.DefaultTimeout();

        Assert.Equal("hello", reply.Text);
        Assert.Equal(3, reply.Payload.Length);
    }

    [Fact]
    public async Task Client_streaming()
    {
        using var call = new EchoClient(Invoker).ClientStream(new CallOptions());
        foreach (var text in new[] { "a", "b", "c" })
        {
            await call.RequestStream.WriteAsync(new EchoRequest { Text = text, Payload = ByteString.CopyFrom(new byte[10]) }).DefaultTimeout();
        }

        await call.RequestStream.CompleteAsync().DefaultTimeout();
        var reply = await call.ResponseAsync.DefaultTimeout();

        Assert.Equal("a,b,c", reply.Text);
        Assert.Equal(3, reply.Count);
        Assert.Equal(30, reply.Index);
    }

    [Fact]
    public async Task Server_streaming()
    {
        using var call = new EchoClient(Invoker).ServerStream(new EchoRequest { Text = "s", Repeat = 5 }, new CallOptions());

        var indices = new List<int>();
        while (await call.ResponseStream.MoveNext(default).DefaultTimeout())
        {
            indices.Add(call.ResponseStream.Current.Index);
        }

        Assert.Equal([0, 1, 2, 3, 4], indices);
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task Server_streaming_error_after_messages()
    {
        using var call = new EchoClient(Invoker).ServerStream(new EchoRequest { Repeat = 3, FailCode = (int)StatusCode.Aborted, FailMessage = "stopped ✗" }, new CallOptions());

        var count = 0;
        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await call.ResponseStream.MoveNext(default))
            {
                count++;
            }
        }).DefaultTimeout();

        Assert.Equal(3, count);
        Assert.Equal(StatusCode.Aborted, ex.StatusCode);
        Assert.Equal("stopped ✗", ex.Status.Detail);
        Assert.Equal("asked", ex.Trailers.GetValue("x-failure"));
    }

    [Fact]
    public async Task Deadline_exceeded()
    {
        await new EchoClient(Invoker).UnaryAsync(new EchoRequest(), new CallOptions()).ResponseAsync.DefaultTimeout();
        var watch = Stopwatch.StartNew();

        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            new EchoClient(Invoker).UnaryAsync(new EchoRequest { DelayMs = 20_000 }, new CallOptions(deadline: DateTime.UtcNow.AddMilliseconds(300))).ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.DeadlineExceeded, ex.StatusCode);
        Assert.InRange(watch.ElapsedMilliseconds, 250, 15_000);
    }

    [Fact]
    public async Task The_grpc_timeout_we_send_becomes_its_handlers_deadline()
    {
        var reply = await new EchoClient(Invoker).UnaryAsync(new EchoRequest(), new CallOptions(deadline: DateTime.UtcNow.AddSeconds(20))).ResponseAsync.DefaultTimeout();

        Assert.InRange(reply.DeadlineRemainingMs, 5_000, 20_000);
    }

    [Fact]
    public async Task Oversize_request_is_resource_exhausted()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            new EchoClient(Invoker).UnaryAsync(new EchoRequest { Payload = ByteString.CopyFrom(new byte[100 * 1024]) }, new CallOptions()).ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
    }

    [Fact]
    public async Task Oversize_response_is_resource_exhausted()
    {
        using var channel = GrpcChannel.ForAddress(fixture.Server.Address, new GrpcChannelOptions { MaxReceiveMessageSize = 1024 });

        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            new EchoClient(channel.CreateCallInvoker()).UnaryAsync(new EchoRequest { ReplyPayloadSize = 4096 }, new CallOptions()).ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
    }

    [Fact]
    public async Task Unknown_method_is_unimplemented()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => Invoker.AsyncUnaryCall(Missing, null, default, new EchoRequest()).ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.Unimplemented, ex.StatusCode);
    }

    [Fact]
    public async Task Unknown_service_is_unimplemented()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => Invoker.AsyncUnaryCall(MissingService, null, default, new EchoRequest()).ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.Unimplemented, ex.StatusCode);
    }

    [Fact]
    public async Task Metadata_round_trip()
    {
        var headers = new Metadata { { "x-ascii", "hello world" }, { "x-data-bin", new byte[] { 0, 1, 2, 254, 255 } } };
        using var call = new EchoClient(Invoker).UnaryAsync(new EchoRequest { Text = "md" }, new CallOptions(headers));

        await call.ResponseAsync.DefaultTimeout();
        var responseHeaders = await call.ResponseHeadersAsync.DefaultTimeout();

        foreach (var metadata in new[] { responseHeaders, call.GetTrailers() })
        {
            Assert.Equal("hello world", metadata.GetValue("x-ascii"));
            Assert.Equal(new byte[] { 0, 1, 2, 254, 255 }, metadata.GetValueBytes("x-data-bin"));
        }
    }

    [Fact]
    public async Task Error_status_with_a_non_ascii_message()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            new EchoClient(Invoker).UnaryAsync(new EchoRequest { FailCode = 9, FailMessage = "résumé ✓ 中文 100% done" }, new CallOptions()).ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.FailedPrecondition, ex.StatusCode);
        Assert.Equal("résumé ✓ 中文 100% done", ex.Status.Detail);
        Assert.Equal("asked", ex.Trailers.GetValue("x-failure"));
    }

    [Fact]
    public async Task Gzip_request()
    {
        // Grpc.Net.Client compresses a call's requests when this header names the encoding.
        var headers = new Metadata { { "grpc-internal-encoding-request", "gzip" } };

        var reply = await new EchoClient(Invoker).UnaryAsync(new EchoRequest { Text = "gz", Payload = ByteString.CopyFrom(new byte[20_000]) }, new CallOptions(headers)).ResponseAsync.DefaultTimeout();

        Assert.Equal(20_000, reply.Payload.Length);
    }
}
