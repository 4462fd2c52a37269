using System.Diagnostics;
using Google.Protobuf;
using ReadHistory.Rpc.Client;
using ReadHistory.Rpc.Server;
using ReadHistory.Rpc.Tests.Conformance.V1;
using ReadHistory.Rpc.Tests.Infrastructure;
using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.Rpc.Tests.InProcess;

public class DeadlineAndLimitTests(EchoServerFixture fixture) : IClassFixture<EchoServerFixture>
{
    [Fact]
    public async Task A_call_past_its_deadline_is_deadline_exceeded_on_time()
    {
        var watch = Stopwatch.StartNew();
        using var call = fixture.Invoker.AsyncUnaryCall(EchoMethods.Unary, null, new CallOptions(deadline: DateTime.UtcNow.AddMilliseconds(300)), new EchoRequest { DelayMs = 20_000 });

        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.DeadlineExceeded, ex.StatusCode);
        // Well before the handler's 20 s; generous above the deadline for a loaded machine.
        Assert.InRange(watch.ElapsedMilliseconds, 250, 15_000);
        Assert.Equal(StatusCode.DeadlineExceeded, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task A_deadline_already_past_fails_without_sending()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            fixture.Invoker.AsyncUnaryCall(EchoMethods.Unary, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(-1)), new EchoRequest()).ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.DeadlineExceeded, ex.StatusCode);
    }

    [Fact]
    public async Task The_server_cancels_the_handler_when_the_deadline_passes()
    {
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var method = new Method<EchoRequest, EchoReply>(MethodType.Unary, "test.Slow", "Wait", EchoRequest.Parser, EchoReply.Parser);
        var service = ServerServiceDefinition.CreateBuilder("test.Slow")
            .AddUnaryMethod(method, async (request, context) =>
            {
                using var registration = context.CancellationToken.Register(() => cancelled.TrySetResult());
                await Task.Delay(Timeout.Infinite, context.CancellationToken);
                return new EchoReply();
            })
            .Build();
        await using var server = await TestGrpcServer.StartAsync(null, service);
        using var channel = server.CreateChannel();
        // Warm the connection (any answer will do), so the request surely reaches the handler before its deadline.
        await channel.CreateCallInvoker().AsyncUnaryCall(EchoMethods.Missing, null, default, new EchoRequest()).ResponseAsync.ContinueWith(_ => { }, TaskScheduler.Default).DefaultTimeout();

        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            channel.CreateCallInvoker().AsyncUnaryCall(method, null, new CallOptions(deadline: DateTime.UtcNow.AddMilliseconds(1000)), new EchoRequest()).ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.DeadlineExceeded, ex.StatusCode);
        await cancelled.Task.DefaultTimeout();
    }

    [Fact]
    public async Task Cancelling_the_token_cancels_the_call_and_the_handler()
    {
        var handlerCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var handlerStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var method = new Method<EchoRequest, EchoReply>(MethodType.Unary, "test.Slow", "Wait", EchoRequest.Parser, EchoReply.Parser);
        var service = ServerServiceDefinition.CreateBuilder("test.Slow")
            .AddUnaryMethod(method, async (request, context) =>
            {
                using var registration = context.CancellationToken.Register(() => handlerCancelled.TrySetResult());
                handlerStarted.TrySetResult();
                await Task.Delay(Timeout.Infinite, context.CancellationToken);
                return new EchoReply();
            })
            .Build();
        await using var server = await TestGrpcServer.StartAsync(null, service);
        using var channel = server.CreateChannel();
        using var cts = new CancellationTokenSource();

        var call = channel.CreateCallInvoker().AsyncUnaryCall(method, null, new CallOptions(cancellationToken: cts.Token), new EchoRequest());
        await handlerStarted.Task.DefaultTimeout();
        await cts.CancelAsync();
        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.Cancelled, ex.StatusCode);
        await handlerCancelled.Task.DefaultTimeout();
    }

    [Fact]
    public async Task Disposing_a_running_call_cancels_it()
    {
        var call = fixture.Invoker.AsyncUnaryCall(EchoMethods.Unary, null, default, new EchoRequest { DelayMs = 20_000 });

        call.Dispose();
        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.Cancelled, ex.StatusCode);
    }

    [Fact]
    public async Task An_oversize_request_is_resource_exhausted_and_the_server_keeps_serving()
    {
        var request = new EchoRequest { Payload = ByteString.CopyFrom(new byte[TestGrpcServer.TestMaxMessageSize + 1]) };

        var ex = await Assert.ThrowsAsync<RpcException>(() => fixture.Invoker.AsyncUnaryCall(EchoMethods.Unary, null, default, request).ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        var after = await fixture.Invoker.AsyncUnaryCall(EchoMethods.Unary, null, default, new EchoRequest { Text = "ok" }).ResponseAsync.DefaultTimeout();
        Assert.Equal("ok", after.Text);
    }

    [Fact]
    public async Task A_much_larger_request_is_refused_before_it_is_all_sent()
    {
        var request = new EchoRequest { Payload = ByteString.CopyFrom(new byte[8 * 1024 * 1024]) };

        var ex = await Assert.ThrowsAsync<RpcException>(() => fixture.Invoker.AsyncUnaryCall(EchoMethods.Unary, null, default, request).ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
    }

    [Fact]
    public async Task An_oversize_response_is_resource_exhausted_at_the_client()
    {
        using var channel = fixture.Server.CreateChannel(new GrpcChannelOptions { MaxReceiveMessageSize = 1024 });

        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            channel.CreateCallInvoker().AsyncUnaryCall(EchoMethods.Unary, null, default, new EchoRequest { ReplyPayloadSize = 4096 }).ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
    }

    [Fact]
    public async Task The_client_refuses_to_send_over_its_send_limit()
    {
        using var channel = fixture.Server.CreateChannel(new GrpcChannelOptions { MaxSendMessageSize = 100 });

        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            channel.CreateCallInvoker().AsyncUnaryCall(EchoMethods.Unary, null, default, new EchoRequest { Payload = ByteString.CopyFrom(new byte[200]) }).ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
    }

    [Fact]
    public async Task The_server_refuses_to_send_over_its_send_limit()
    {
        await using var server = await TestGrpcServer.StartAsync(o => o.MaxSendMessageSize = 1000);
        using var channel = server.CreateChannel();

        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            channel.CreateCallInvoker().AsyncUnaryCall(EchoMethods.Unary, null, default, new EchoRequest { ReplyPayloadSize = 2000 }).ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
    }

    [Fact]
    public async Task A_server_without_a_receive_limit_takes_large_messages()
    {
        await using var server = await TestGrpcServer.StartAsync(o => o.MaxReceiveMessageSize = null);
        using var channel = server.CreateChannel(new GrpcChannelOptions { MaxReceiveMessageSize = null });
        var payload = ByteString.CopyFrom(new byte[6 * 1024 * 1024]);

        var reply = await channel.CreateCallInvoker().AsyncUnaryCall(EchoMethods.Unary, null, default, new EchoRequest { Payload = payload }).ResponseAsync.DefaultTimeout();

        Assert.Equal(payload.Length, reply.Payload.Length);
    }
}
