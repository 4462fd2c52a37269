using Google.Protobuf;
using ReadHistory.Rpc.Tests.Conformance.V1;
using ReadHistory.Rpc.Tests.Infrastructure;
using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.Rpc.Tests.InProcess;

public class StreamingCallTests(EchoServerFixture fixture) : IClassFixture<EchoServerFixture>
{
    [Fact]
    public async Task A_client_stream_is_read_to_its_end()
    {
        using var call = fixture.Invoker.AsyncClientStreamingCall(EchoMethods.ClientStream, null, default);

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
    public async Task An_empty_client_stream_gets_an_answer()
    {
        using var call = fixture.Invoker.AsyncClientStreamingCall(EchoMethods.ClientStream, null, default);

        await call.RequestStream.CompleteAsync().DefaultTimeout();
        var reply = await call.ResponseAsync.DefaultTimeout();

        Assert.Equal(0, reply.Count);
    }

    [Fact]
    public async Task A_long_client_stream_is_read_whole()
    {
        using var call = fixture.Invoker.AsyncClientStreamingCall(EchoMethods.ClientStream, null, default);

        for (var i = 0; i < 2_000; i++)
        {
            await call.RequestStream.WriteAsync(new EchoRequest { Text = "x", Payload = ByteString.CopyFrom(new byte[1000]) }).DefaultTimeout();
        }

        await call.RequestStream.CompleteAsync().DefaultTimeout();
        var reply = await call.ResponseAsync.DefaultTimeout();

        Assert.Equal(2_000, reply.Count);
        Assert.Equal(2_000_000, reply.Index);
    }

    [Fact]
    public async Task A_client_stream_failed_by_the_server_reports_the_status_to_writer_and_response()
    {
        using var call = fixture.Invoker.AsyncClientStreamingCall(EchoMethods.ClientStream, null, default);

        await call.RequestStream.WriteAsync(new EchoRequest { Text = "a" }).DefaultTimeout();
        await call.RequestStream.WriteAsync(new EchoRequest { FailCode = (int)StatusCode.InvalidArgument, FailMessage = "bad item" }).DefaultTimeout();
        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Equal("bad item", ex.Status.Detail);
        var writeError = await Assert.ThrowsAsync<RpcException>(() => call.RequestStream.WriteAsync(new EchoRequest())).DefaultTimeout();
        Assert.Equal(StatusCode.InvalidArgument, writeError.StatusCode);
    }

    [Fact]
    public async Task An_oversize_message_in_a_client_stream_is_resource_exhausted()
    {
        using var call = fixture.Invoker.AsyncClientStreamingCall(EchoMethods.ClientStream, null, default);

        await call.RequestStream.WriteAsync(new EchoRequest { Text = "fine" }).DefaultTimeout();
        try
        {
            await call.RequestStream.WriteAsync(new EchoRequest { Payload = ByteString.CopyFrom(new byte[TestGrpcServer.TestMaxMessageSize * 2]) }).DefaultTimeout();
            await call.RequestStream.CompleteAsync().DefaultTimeout();
        }
        catch (RpcException)
        {
            // The server may answer before the write finished; the response carries the status.
        }

        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync).DefaultTimeout();
        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
    }

    [Fact]
    public async Task A_client_stream_past_its_deadline_is_deadline_exceeded()
    {
        // Warm the connection first: a cold first call can take longer than the deadline below.
        await fixture.Invoker.AsyncUnaryCall(EchoMethods.Unary, null, default, new EchoRequest()).ResponseAsync.DefaultTimeout();
        using var call = fixture.Invoker.AsyncClientStreamingCall(EchoMethods.ClientStream, null, new CallOptions(deadline: DateTime.UtcNow.AddMilliseconds(1000)));

        try
        {
            await call.RequestStream.WriteAsync(new EchoRequest { Text = "a" }).DefaultTimeout();
        }
        catch (RpcException)
        {
            // On a loaded machine the deadline may pass during the write itself; the response says how the call ended.
        }

        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.DeadlineExceeded, ex.StatusCode);
    }

    [Fact]
    public async Task Writing_after_complete_is_refused()
    {
        using var call = fixture.Invoker.AsyncClientStreamingCall(EchoMethods.ClientStream, null, default);

        await call.RequestStream.CompleteAsync().DefaultTimeout();

        await Assert.ThrowsAsync<InvalidOperationException>(() => call.RequestStream.WriteAsync(new EchoRequest())).DefaultTimeout();
        await call.ResponseAsync.DefaultTimeout();
    }

    [Fact]
    public async Task A_server_stream_delivers_every_message_in_order()
    {
        using var call = fixture.Invoker.AsyncServerStreamingCall(EchoMethods.ServerStream, null, default, new EchoRequest { Text = "s", Repeat = 50 });

        var indices = new List<int>();
        await foreach (var reply in call.ResponseStream.ReadAllAsync().WithCancellation(default))
        {
            indices.Add(reply.Index);
        }

        Assert.Equal(Enumerable.Range(0, 50), indices);
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task An_empty_server_stream_ends_at_once()
    {
        using var call = fixture.Invoker.AsyncServerStreamingCall(EchoMethods.ServerStream, null, default, new EchoRequest { Repeat = 0 });

        Assert.False(await call.ResponseStream.MoveNext(default).DefaultTimeout());
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task A_server_stream_that_fails_after_messages_reports_the_status_in_trailers()
    {
        using var call = fixture.Invoker.AsyncServerStreamingCall(EchoMethods.ServerStream, null, default,
            new EchoRequest { Repeat = 3, FailCode = (int)StatusCode.Aborted, FailMessage = "stopped ✗" });

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
        Assert.Equal("asked", call.GetTrailers().GetValue("x-failure"));
    }

    [Fact]
    public async Task A_server_stream_past_its_deadline_is_deadline_exceeded()
    {
        using var call = fixture.Invoker.AsyncServerStreamingCall(EchoMethods.ServerStream, null, new CallOptions(deadline: DateTime.UtcNow.AddMilliseconds(400)),
            new EchoRequest { Repeat = 1000, DelayMs = 100 });

        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await call.ResponseStream.MoveNext(default))
            {
            }
        }).DefaultTimeout();

        Assert.Equal(StatusCode.DeadlineExceeded, ex.StatusCode);
    }

    [Fact]
    public async Task Cancelling_a_server_stream_read_cancels_the_call()
    {
        using var call = fixture.Invoker.AsyncServerStreamingCall(EchoMethods.ServerStream, null, default, new EchoRequest { Repeat = 1000, DelayMs = 50 });
        Assert.True(await call.ResponseStream.MoveNext(default).DefaultTimeout());
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));

        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await call.ResponseStream.MoveNext(cts.Token))
            {
            }
        }).DefaultTimeout();

        Assert.Equal(StatusCode.Cancelled, ex.StatusCode);
    }

    [Fact]
    public async Task An_oversize_streamed_response_is_resource_exhausted_at_the_client()
    {
        using var channel = fixture.Server.CreateChannel(new Client.GrpcChannelOptions { MaxReceiveMessageSize = 1000 });
        using var call = channel.CreateCallInvoker().AsyncServerStreamingCall(EchoMethods.ServerStream, null, default, new EchoRequest { Repeat = 3, ReplyPayloadSize = 2000 });

        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(default)).DefaultTimeout();

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
    }

    [Fact]
    public async Task An_unknown_streaming_method_is_unimplemented_on_first_read()
    {
        var method = new Method<EchoRequest, EchoReply>(MethodType.ServerStreaming, EchoMethods.ServiceName, "NoSuchStream", EchoRequest.Parser, EchoReply.Parser);
        using var call = fixture.Invoker.AsyncServerStreamingCall(method, null, default, new EchoRequest());

        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(default)).DefaultTimeout();

        Assert.Equal(StatusCode.Unimplemented, ex.StatusCode);
    }

    [Fact]
    public async Task Streaming_metadata_round_trips()
    {
        var headers = new Metadata { { "x-stream", "yes" } };
        using var call = fixture.Invoker.AsyncServerStreamingCall(EchoMethods.ServerStream, null, new CallOptions(headers), new EchoRequest { Repeat = 1 });

        var responseHeaders = await call.ResponseHeadersAsync.DefaultTimeout();
        while (await call.ResponseStream.MoveNext(default).DefaultTimeout())
        {
        }

        Assert.Equal("yes", responseHeaders.GetValue("x-stream"));
        Assert.Equal("yes", call.GetTrailers().GetValue("x-stream"));
    }
}
