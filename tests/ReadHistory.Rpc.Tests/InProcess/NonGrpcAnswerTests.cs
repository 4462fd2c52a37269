using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ReadHistory.Rpc.Client;
using ReadHistory.Rpc.Server;
using ReadHistory.Rpc.Tests.Conformance.V1;
using ReadHistory.Rpc.Tests.Infrastructure;
using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.Rpc.Tests.InProcess;

/// <summary>Our client against an HTTP/2 server that does not answer like gRPC (a proxy, a misrouted call): the spec's mapping.</summary>
public sealed class NonGrpcAnswerTests : IAsyncLifetime
{
    private WebApplication? _app;
    private GrpcChannel? _channel;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.ListenGrpc(new IPEndPoint(IPAddress.Loopback, 0)));
        _app = builder.Build();
        _app.MapPost("/status/{code:int}", (HttpContext context, int code) =>
        {
            context.Response.StatusCode = code;
            // A grpc-status next to a non-200 status is not trusted (http-grpc-status-mapping.md).
            context.Response.Headers["grpc-status"] = "0";
            return Task.CompletedTask;
        });
        _app.MapPost("/text/plain", async context =>
        {
            context.Response.ContentType = "text/plain";
            await context.Response.WriteAsync("hello");
        });
        _app.MapPost("/grpc/no-status", async context =>
        {
            context.Response.ContentType = "application/grpc";
            await context.Response.Body.WriteAsync(RawGrpc.Frame(new EchoReply { Text = "x" }));
        });
        await _app.StartAsync().DefaultTimeout();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        _channel = GrpcChannel.ForAddress(address);
    }

    public async Task DisposeAsync()
    {
        _channel?.Dispose();
        await _app!.StopAsync().DefaultTimeout();
        await _app.DisposeAsync();
    }

    [Theory]
    [InlineData(400, StatusCode.Internal)]
    [InlineData(401, StatusCode.Unauthenticated)]
    [InlineData(403, StatusCode.PermissionDenied)]
    [InlineData(404, StatusCode.Unimplemented)]
    [InlineData(429, StatusCode.Unavailable)]
    [InlineData(502, StatusCode.Unavailable)]
    [InlineData(503, StatusCode.Unavailable)]
    [InlineData(504, StatusCode.Unavailable)]
    [InlineData(500, StatusCode.Unknown)]
    [InlineData(418, StatusCode.Unknown)]
    public async Task A_non_200_answer_maps_to_the_spec_status(int httpStatus, StatusCode expected)
    {
        var ex = await CallAsync("status", httpStatus.ToString(System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(expected, ex.StatusCode);
        Assert.Contains(httpStatus.ToString(System.Globalization.CultureInfo.InvariantCulture), ex.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_200_that_is_not_grpc_is_internal()
    {
        var ex = await CallAsync("text", "plain");

        Assert.Equal(StatusCode.Internal, ex.StatusCode);
        Assert.Contains("content-type", ex.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_grpc_answer_without_a_status_is_internal()
    {
        var ex = await CallAsync("grpc", "no-status");

        Assert.Equal(StatusCode.Internal, ex.StatusCode);
        Assert.Contains("grpc-status", ex.Status.Detail, StringComparison.Ordinal);
    }

    private Task<RpcException> CallAsync(string service, string method)
    {
        var descriptor = new Method<EchoRequest, EchoReply>(MethodType.Unary, service, method, EchoRequest.Parser, EchoReply.Parser);
        return Assert.ThrowsAsync<RpcException>(() => _channel!.CreateCallInvoker().AsyncUnaryCall(descriptor, null, default, new EchoRequest()).ResponseAsync).DefaultTimeout();
    }
}
