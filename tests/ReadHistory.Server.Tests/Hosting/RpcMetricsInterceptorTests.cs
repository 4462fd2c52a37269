using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using Prometheus;
using ReadHistory.Server.Hosting;
using ReadHistory.TestSupport;
using Xunit;
using ReadHistory.TestSupport.Server;

namespace ReadHistory.Server.Tests.Hosting;

public sealed class RpcMetricsInterceptorTests
{
    [Fact]
    public async Task A_call_the_client_cancelled_ends_as_cancelled_not_unknown()
    {
        var registry = Metrics.NewCustomRegistry();
        var interceptor = new RpcMetricsInterceptor(new RpcMetrics(registry, "test"), TimeProvider.System, NullLogger<RpcMetricsInterceptor>.Instance);
        using var aborted = new CancellationTokenSource();
        await aborted.CancelAsync();
        var context = TestServerCallContext.Create("/readhistory.v1.ReadHistory/Check", cancellationToken: aborted.Token);

        var error = await Assert.ThrowsAsync<RpcException>(() => interceptor.UnaryServerHandler<string, string>(
            "request", context, static (_, c) => Task.FromException<string>(new OperationCanceledException(c.CancellationToken))));

        Assert.Equal(StatusCode.Cancelled, error.StatusCode);
        Assert.Contains("readhistory_rpc_requests_total{code=\"CANCELLED\",method=\"Check\",role=\"test\"} 1", await Exposition.ScrapeLinesAsync(registry));
    }

    [Fact]
    public async Task A_handler_failure_of_a_live_call_passes_through_unchanged()
    {
        var interceptor = new RpcMetricsInterceptor(new RpcMetrics(null, "test"), TimeProvider.System, NullLogger<RpcMetricsInterceptor>.Instance);
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
