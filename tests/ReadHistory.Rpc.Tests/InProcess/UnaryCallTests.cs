using Google.Protobuf;
using ReadHistory.Rpc.Tests.Conformance.V1;
using ReadHistory.Rpc.Tests.Infrastructure;
using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.Rpc.Tests.InProcess;

public class UnaryCallTests(EchoServerFixture fixture) : IClassFixture<EchoServerFixture>
{
    [Fact]
    public async Task A_unary_call_echoes_the_request()
    {
        var request = new EchoRequest { Text = "hello", Payload = ByteString.CopyFrom(1, 2, 3) };

        using var call = fixture.Invoker.AsyncUnaryCall(EchoMethods.Unary, null, default, request);
        var reply = await call.ResponseAsync.DefaultTimeout();

        Assert.Equal("hello", reply.Text);
        Assert.Equal(request.Payload, reply.Payload);
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
        Assert.Equal(-1, reply.DeadlineRemainingMs);
    }

    [Fact]
    public async Task An_empty_request_is_a_valid_message()
    {
        var reply = await fixture.Invoker.AsyncUnaryCall(EchoMethods.Unary, null, default, new EchoRequest()).ResponseAsync.DefaultTimeout();

        Assert.Equal(string.Empty, reply.Text);
    }

    [Fact]
    public async Task Many_concurrent_calls_share_the_connection()
    {
        var invoker = fixture.Invoker;

        var replies = await Task.WhenAll(Enumerable.Range(0, 300).Select(i =>
            invoker.AsyncUnaryCall(EchoMethods.Unary, null, default, new EchoRequest { Text = i.ToString(System.Globalization.CultureInfo.InvariantCulture) }).ResponseAsync)).DefaultTimeout();

        Assert.Equal(Enumerable.Range(0, 300).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), replies.Select(r => r.Text));
    }

    [Fact]
    public async Task The_handler_sees_the_deadline_the_client_set()
    {
        var options = new CallOptions(deadline: DateTime.UtcNow.AddSeconds(20));

        var reply = await fixture.Invoker.AsyncUnaryCall(EchoMethods.Unary, null, options, new EchoRequest()).ResponseAsync.DefaultTimeout();

        Assert.InRange(reply.DeadlineRemainingMs, 5_000, 20_000);
    }

    [Fact]
    public async Task Metadata_round_trips_in_headers_and_trailers()
    {
        var headers = new Metadata
        {
            { "x-ascii", "hello world" },
            { "x-data-bin", new byte[] { 0, 1, 2, 254, 255 } },
        };

        using var call = fixture.Invoker.AsyncUnaryCall(EchoMethods.Unary, null, new CallOptions(headers), new EchoRequest { Text = "md" });
        await call.ResponseAsync.DefaultTimeout();
        var responseHeaders = await call.ResponseHeadersAsync.DefaultTimeout();
        var trailers = call.GetTrailers();

        Assert.Equal("hello world", responseHeaders.GetValue("x-ascii"));
        Assert.Equal(new byte[] { 0, 1, 2, 254, 255 }, responseHeaders.GetValueBytes("x-data-bin"));
        Assert.Equal("hello world", trailers.GetValue("x-ascii"));
        Assert.Equal(new byte[] { 0, 1, 2, 254, 255 }, trailers.GetValueBytes("x-data-bin"));
    }

    [Theory]
    [InlineData(StatusCode.NotFound, "plain")]
    [InlineData(StatusCode.FailedPrecondition, "résumé ✓ 中文 100% done\nsecond line")]
    [InlineData(StatusCode.ResourceExhausted, "")]
    [InlineData(StatusCode.Unauthenticated, "%41 is not A")]
    public async Task An_error_status_reaches_the_client_with_its_exact_message_and_trailers(StatusCode code, string message)
    {
        using var call = fixture.Invoker.AsyncUnaryCall(EchoMethods.Unary, null, default, new EchoRequest { FailCode = (int)code, FailMessage = message });

        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync).DefaultTimeout();

        Assert.Equal(code, ex.StatusCode);
        Assert.Equal(message, ex.Status.Detail);
        Assert.Equal("asked", ex.Trailers.GetValue("x-failure"));
        Assert.Equal(code, call.GetStatus().StatusCode);
    }

    [Fact]
    public async Task A_handler_exception_is_unknown_and_leaks_nothing()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            fixture.Invoker.AsyncUnaryCall(EchoMethods.Unary, null, default, new EchoRequest { Text = "throw" }).ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.Unknown, ex.StatusCode);
        Assert.DoesNotContain("hunter2", ex.Status.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("InvalidOperationException", ex.Status.Detail, StringComparison.Ordinal);
        var after = await fixture.Invoker.AsyncUnaryCall(EchoMethods.Unary, null, default, new EchoRequest { Text = "still serving" }).ResponseAsync.DefaultTimeout();
        Assert.Equal("still serving", after.Text);
    }

    [Fact]
    public async Task An_unknown_method_is_unimplemented()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            fixture.Invoker.AsyncUnaryCall(EchoMethods.Missing, null, default, new EchoRequest()).ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.Unimplemented, ex.StatusCode);
        Assert.Equal("Method is unimplemented.", ex.Status.Detail);
    }

    [Fact]
    public async Task An_unknown_service_is_unimplemented()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            fixture.Invoker.AsyncUnaryCall(EchoMethods.MissingService, null, default, new EchoRequest()).ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.Unimplemented, ex.StatusCode);
        Assert.Equal("Service is unimplemented.", ex.Status.Detail);
    }

    [Fact]
    public async Task A_refused_connection_is_unavailable()
    {
        using var channel = Client.GrpcChannel.ForAddress("http://127.0.0.1:" + TestSupport.FreePort.Next());

        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            channel.CreateCallInvoker().AsyncUnaryCall(EchoMethods.Unary, null, default, new EchoRequest()).ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
    }
}
