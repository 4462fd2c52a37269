using ReadHistory.Rpc.Health;
using ReadHistory.Rpc.Health.V1;
using ReadHistory.Rpc.Tests.Infrastructure;
using ReadHistory.TestSupport;
using ServingStatus = ReadHistory.Rpc.Health.V1.HealthCheckResponse.Types.ServingStatus;
using Xunit;

namespace ReadHistory.Rpc.Tests.InProcess;

public sealed class HealthServiceTests : IAsyncLifetime
{
    private readonly HealthService _health = new();
    private TestGrpcServer? _server;
    private Client.GrpcChannel? _channel;

    private CallInvoker Invoker => _channel!.CreateCallInvoker();

    public async Task InitializeAsync()
    {
        _server = await TestGrpcServer.StartAsync(null, _health.CreateDefinition(), EchoService.CreateDefinition());
        _channel = _server.CreateChannel();
    }

    public async Task DisposeAsync()
    {
        _channel?.Dispose();
        await _server!.DisposeAsync();
    }

    [Fact]
    public async Task The_whole_server_starts_serving()
    {
        var response = await Invoker.AsyncUnaryCall(HealthMethods.Check, null, default, new HealthCheckRequest()).ResponseAsync.DefaultTimeout();

        Assert.Equal(ServingStatus.Serving, response.Status);
    }

    [Fact]
    public async Task Check_of_an_unknown_service_is_not_found()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            Invoker.AsyncUnaryCall(HealthMethods.Check, null, default, new HealthCheckRequest { Service = "nope" }).ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.NotFound, ex.StatusCode);
    }

    [Fact]
    public async Task Check_answers_the_status_last_set()
    {
        _health.SetStatus("readhistory.v1.ReadHistory", ServingStatus.NotServing);

        var response = await Invoker.AsyncUnaryCall(HealthMethods.Check, null, default, new HealthCheckRequest { Service = "readhistory.v1.ReadHistory" }).ResponseAsync.DefaultTimeout();

        Assert.Equal(ServingStatus.NotServing, response.Status);
    }

    [Fact]
    public async Task Watch_streams_the_current_status_then_each_change()
    {
        _health.SetStatus("svc", ServingStatus.NotServing);
        using var call = Invoker.AsyncServerStreamingCall(HealthMethods.Watch, null, default, new HealthCheckRequest { Service = "svc" });

        Assert.Equal(ServingStatus.NotServing, await NextAsync(call));
        _health.SetStatus("svc", ServingStatus.Serving);
        Assert.Equal(ServingStatus.Serving, await NextAsync(call));
        _health.ClearStatus("svc");
        Assert.Equal(ServingStatus.ServiceUnknown, await NextAsync(call));
    }

    [Fact]
    public async Task Watch_of_an_unknown_service_says_service_unknown_and_waits_for_it()
    {
        using var call = Invoker.AsyncServerStreamingCall(HealthMethods.Watch, null, default, new HealthCheckRequest { Service = "later" });

        Assert.Equal(ServingStatus.ServiceUnknown, await NextAsync(call));
        _health.SetStatus("later", ServingStatus.Serving);
        Assert.Equal(ServingStatus.Serving, await NextAsync(call));
    }

    [Fact]
    public async Task A_cancelled_watch_ends_and_unregisters()
    {
        using var cts = new CancellationTokenSource();
        using var call = Invoker.AsyncServerStreamingCall(HealthMethods.Watch, null, new CallOptions(cancellationToken: cts.Token), new HealthCheckRequest { Service = "c" });
        Assert.Equal(ServingStatus.ServiceUnknown, await NextAsync(call));

        await cts.CancelAsync();
        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(default)).DefaultTimeout();

        Assert.Equal(StatusCode.Cancelled, ex.StatusCode);
        _health.SetStatus("c", ServingStatus.Serving);
    }

    [Fact]
    public async Task The_health_service_sits_beside_other_services()
    {
        var reply = await Invoker.AsyncUnaryCall(EchoMethods.Unary, null, default, new Conformance.V1.EchoRequest { Text = "x" }).ResponseAsync.DefaultTimeout();

        Assert.Equal("x", reply.Text);
    }

    private static async Task<ServingStatus> NextAsync(AsyncServerStreamingCall<HealthCheckResponse> call)
    {
        Assert.True(await call.ResponseStream.MoveNext(default).DefaultTimeout());
        return call.ResponseStream.Current.Status;
    }
}
