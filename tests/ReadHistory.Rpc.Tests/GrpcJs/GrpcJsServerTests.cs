using System.Diagnostics;
using Google.Protobuf;
using ReadHistory.Rpc.Client;
using ReadHistory.Rpc.Tests.Conformance.V1;
using ReadHistory.Rpc.Tests.Infrastructure;
using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.Rpc.Tests.GrpcJs;

/// <summary>Our client calls the independent @grpc/grpc-js server.</summary>
[Collection(ConformanceGroup.Name)]
public sealed class GrpcJsServerTests(ConformanceFixture fixture) : IDisposable
{
    private readonly GrpcChannel _channel = GrpcChannel.ForAddress(fixture.NodeServer.Address);

    private CallInvoker Invoker => _channel.CreateCallInvoker();

    public void Dispose() => _channel.Dispose();

    [Fact]
    public async Task Unary()
    {
        var reply = await Invoker.AsyncUnaryCall(EchoMethods.Unary, null, default, new EchoRequest { Text = "hello", Payload = ByteString.CopyFrom(1, 2, 3) }).ResponseAsync.DefaultTimeout();

        Assert.Equal("hello", reply.Text);
        Assert.Equal(3, reply.Payload.Length);
    }

    [Fact]
    public async Task Client_streaming()
    {
        using var call = Invoker.AsyncClientStreamingCall(EchoMethods.ClientStream, null, default);
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
        using var call = Invoker.AsyncServerStreamingCall(EchoMethods.ServerStream, null, default, new EchoRequest { Text = "s", Repeat = 5 });

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
        using var call = Invoker.AsyncServerStreamingCall(EchoMethods.ServerStream, null, default, new EchoRequest { Repeat = 3, FailCode = (int)StatusCode.Aborted, FailMessage = "stopped ✗" });

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
        await Invoker.AsyncUnaryCall(EchoMethods.Unary, null, default, new EchoRequest()).ResponseAsync.DefaultTimeout();
        var watch = Stopwatch.StartNew();

        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            Invoker.AsyncUnaryCall(EchoMethods.Unary, null, new CallOptions(deadline: DateTime.UtcNow.AddMilliseconds(300)), new EchoRequest { DelayMs = 20_000 }).ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.DeadlineExceeded, ex.StatusCode);
        Assert.InRange(watch.ElapsedMilliseconds, 250, 15_000);
    }

    [Fact]
    public async Task The_grpc_timeout_we_send_becomes_its_handlers_deadline()
    {
        var reply = await Invoker.AsyncUnaryCall(EchoMethods.Unary, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(20)), new EchoRequest()).ResponseAsync.DefaultTimeout();

        Assert.InRange(reply.DeadlineRemainingMs, 5_000, 20_000);
    }

    [Fact]
    public async Task Oversize_request_is_resource_exhausted()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            Invoker.AsyncUnaryCall(EchoMethods.Unary, null, default, new EchoRequest { Payload = ByteString.CopyFrom(new byte[100 * 1024]) }).ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
    }

    [Fact]
    public async Task Oversize_response_is_resource_exhausted()
    {
        using var channel = GrpcChannel.ForAddress(fixture.NodeServer.Address, new GrpcChannelOptions { MaxReceiveMessageSize = 1024 });

        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            channel.CreateCallInvoker().AsyncUnaryCall(EchoMethods.Unary, null, default, new EchoRequest { ReplyPayloadSize = 4096 }).ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
    }

    [Fact]
    public async Task Unknown_method_is_unimplemented()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => Invoker.AsyncUnaryCall(EchoMethods.Missing, null, default, new EchoRequest()).ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.Unimplemented, ex.StatusCode);
    }

    [Fact]
    public async Task Unknown_service_is_unimplemented()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => Invoker.AsyncUnaryCall(EchoMethods.MissingService, null, default, new EchoRequest()).ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.Unimplemented, ex.StatusCode);
    }

    [Fact]
    public async Task Metadata_round_trip()
    {
        var headers = new Metadata { { "x-ascii", "hello world" }, { "x-data-bin", new byte[] { 0, 1, 2, 254, 255 } } };
        using var call = Invoker.AsyncUnaryCall(EchoMethods.Unary, null, new CallOptions(headers), new EchoRequest { Text = "md" });

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
            Invoker.AsyncUnaryCall(EchoMethods.Unary, null, default, new EchoRequest { FailCode = 9, FailMessage = "résumé ✓ 中文 100% done" }).ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.FailedPrecondition, ex.StatusCode);
        Assert.Equal("résumé ✓ 中文 100% done", ex.Status.Detail);
        Assert.Equal("asked", ex.Trailers.GetValue("x-failure"));
    }

    [Fact]
    public async Task Gzip_request()
    {
        using var channel = GrpcChannel.ForAddress(fixture.NodeServer.Address, new GrpcChannelOptions { SendCompression = "gzip" });

        var reply = await channel.CreateCallInvoker().AsyncUnaryCall(EchoMethods.Unary, null, default, new EchoRequest { Text = "gz", Payload = ByteString.CopyFrom(new byte[20_000]) }).ResponseAsync.DefaultTimeout();

        Assert.Equal(20_000, reply.Payload.Length);
    }
}
