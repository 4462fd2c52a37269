using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ReadHistory.Api.V1;
using ReadHistory.Rpc;
using ReadHistory.Rpc.Client;
using ReadHistory.Server.Hosting;
using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.Server.Tests.Hosting;

public sealed class ServerHostTests : IAsyncLifetime
{
    private WebApplication? _app;
    private Uri _grpc = null!;
    private Uri _http = null!;

    public async Task InitializeAsync()
    {
        _app = ServerHost.Build([], configuration => configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ReadHistory:Roles"] = "proxy",
            ["ReadHistory:GrpcListen"] = "127.0.0.1:0",
            ["ReadHistory:HttpListen"] = "127.0.0.1:0",
            ["ReadHistory:ShutdownGrace"] = "00:00:02",
        }));
        await _app.StartAsync().DefaultTimeout();
        var addresses = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Select(a => new Uri(a)).ToList();
        Assert.Equal(2, addresses.Count);
        _grpc = addresses[0];
        _http = addresses[1];
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync().DefaultTimeout();
            await _app.DisposeAsync();
        }
    }

    [Fact]
    public async Task Healthz_answers_ok()
    {
        using var http = new HttpClient();
        var response = await http.GetAsync(new Uri(_http, "/healthz")).DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Readyz_answers_ready_when_nothing_is_pending()
    {
        using var http = new HttpClient();
        var response = await http.GetAsync(new Uri(_http, "/readyz")).DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Readyz_names_the_component_that_is_not_ready()
    {
        _app!.Services.GetRequiredService<Readiness>().Register("database", static _ => ValueTask.FromResult(false));
        using var http = new HttpClient();
        var response = await http.GetAsync(new Uri(_http, "/readyz")).DefaultTimeout();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("database", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_check_with_user_zero_gets_invalid_argument_naming_the_field()
    {
        using var channel = GrpcChannel.ForAddress(_grpc);
        var request = new CheckRequest { UserId = 0, ContentIds = { 1, 2 } };
        var error = await Assert.ThrowsAsync<RpcException>(async () => await channel.CreateCallInvoker().AsyncUnaryCall(ReadHistoryMethods.Check, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(10)), request)).DefaultTimeout();
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.StartsWith("user_id:", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_count_calls_by_method_and_status()
    {
        using var channel = GrpcChannel.ForAddress(_grpc);
        await Assert.ThrowsAsync<RpcException>(async () => await channel.CreateCallInvoker().AsyncUnaryCall(ReadHistoryMethods.Filter, null, new CallOptions(deadline: DateTime.UtcNow.AddSeconds(10)), new CheckRequest())).DefaultTimeout();
        using var http = new HttpClient();
        var text = await http.GetStringAsync(new Uri(_http, "/metrics")).DefaultTimeout();
        Assert.Contains("readhistory_rpc_requests_total{code=\"INVALID_ARGUMENT\",method=\"Filter\",role=\"proxy\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("readhistory_rpc_request_duration_seconds_bucket{", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_configuration_is_refused_with_every_problem_named()
    {
        var error = Assert.Throws<OptionsValidationException>(() => ServerHost.Build([], configuration => configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ReadHistory:Roles"] = "proxy,gateway",
            ["ReadHistory:GrpcListen"] = "nowhere",
            ["ReadHistory:Database:Databases"] = "0",
        })));
        Assert.Contains(error.Failures, f => f.StartsWith("ReadHistory:Roles: role 'gateway'", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.StartsWith("ReadHistory:GrpcListen:", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.StartsWith("ReadHistory:Database:Databases:", StringComparison.Ordinal));
    }
}
