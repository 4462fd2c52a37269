using System.Diagnostics.Metrics;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using ReadHistory.Server.Hosting;
using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.Server.Tests.Hosting;

public sealed class RpcMetricsInterceptorTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();

    public void Dispose() => _services.Dispose();

    [Fact]
    public async Task A_call_the_client_cancelled_ends_as_cancelled_not_unknown()
    {
        using var metrics = new RpcMetrics(_services.GetRequiredService<IMeterFactory>(), "test");
        var interceptor = new RpcMetricsInterceptor(metrics, TimeProvider.System, NullLogger<RpcMetricsInterceptor>.Instance);
        using var aborted = new CancellationTokenSource();
        await aborted.CancelAsync();
        var context = TestServerCallContext.Create("/readhistory.v1.ReadHistory/Check", cancellationToken: aborted.Token);

        var error = await Assert.ThrowsAsync<RpcException>(() => interceptor.UnaryServerHandler<string, string>(
            "request", context, static (_, c) => Task.FromException<string>(new OperationCanceledException(c.CancellationToken))));

        Assert.Equal(StatusCode.Cancelled, error.StatusCode);
    }

    [Fact]
    public async Task A_handler_failure_of_a_live_call_passes_through_unchanged()
    {
        using var metrics = new RpcMetrics(_services.GetRequiredService<IMeterFactory>(), "test");
        var interceptor = new RpcMetricsInterceptor(metrics, TimeProvider.System, NullLogger<RpcMetricsInterceptor>.Instance);
        var context = TestServerCallContext.Create("/readhistory.v1.ReadHistory/Check");

        await Assert.ThrowsAsync<InvalidOperationException>(() => interceptor.UnaryServerHandler<string, string>(
            "request", context, static (_, _) => Task.FromException<string>(new InvalidOperationException("boom"))));
    }

    [Theory]
    [InlineData("/readhistory.v1.ReadHistory/Check", "Check")]
    [InlineData("/readhistory.internal.v1.CacheNode/Check", "CacheNode.Check")]
    [InlineData("/readhistory.internal.v1.CacheNode/Stats", "CacheNode.Stats")]
    public void Methods_are_labelled_as_before_the_move(string method, string label) =>
        Assert.Equal(label, RpcMetricsInterceptor.LabelOf(TestServerCallContext.Create(method)));
}
