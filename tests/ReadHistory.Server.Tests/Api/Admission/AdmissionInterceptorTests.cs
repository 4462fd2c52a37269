using Grpc.Core;
using Prometheus;
using ReadHistory.Server.Api.Admission;
using ReadHistory.TestSupport;
using ReadHistory.TestSupport.Server;
using Xunit;

namespace ReadHistory.Server.Tests.Api.Admission;

/// <summary>Calls in flight per class, refused at once past the bound, with writes on permits of their own.</summary>
public sealed class AdmissionInterceptorTests
{
    private const string Check = "/readhistory.v1.ReadHistory/Check";
    private const string NodeCheck = "/readhistory.internal.v1.CacheNode/Check";
    private const string MarkRead = "/readhistory.v1.ReadHistory/MarkRead";
    private const string Ingest = "/readhistory.v1.ReadHistory/Ingest";
    private const string BatchCheck = "/readhistory.v1.ReadHistory/BatchCheck";

    [Fact]
    public async Task A_check_past_the_bound_is_refused_at_once_with_the_class_the_bound_and_retry_after_ms()
    {
        using var admission = Admission(checks: 2, writes: 2, batch: 1);
        var interceptor = new AdmissionInterceptor(admission);
        var held = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = Unary(interceptor, Check, held.Task);
        var second = Unary(interceptor, NodeCheck, held.Task);

        var refused = await Assert.ThrowsAsync<RpcException>(() => Unary(interceptor, Check, Task.FromResult("never")));

        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Contains("checks", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("limit of 2", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("ReadHistory:Admission:Node:Checks", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Equal("20", refused.Trailers.GetValue(AdmissionControl.RetryAfterTrailer));
        Assert.Equal(2, admission.InFlight(CallClass.Checks));
        held.SetResult("done");
        Assert.Equal("done", await first.DefaultTimeout());
        Assert.Equal("done", await second.DefaultTimeout());
        Assert.Equal(0, admission.InFlight(CallClass.Checks));
        Assert.Equal("again", await Unary(interceptor, Check, Task.FromResult("again")).DefaultTimeout());
    }

    [Fact]
    public async Task Checks_at_their_bound_never_take_a_write_s_permit()
    {
        using var admission = Admission(checks: 3, writes: 1, batch: 1);
        var interceptor = new AdmissionInterceptor(admission);
        var held = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var checks = Enumerable.Range(0, 3).Select(_ => Unary(interceptor, Check, held.Task)).ToList();
        await Assert.ThrowsAsync<RpcException>(() => Unary(interceptor, Check, held.Task));

        var written = await Unary(interceptor, MarkRead, Task.FromResult("written")).DefaultTimeout();

        Assert.Equal("written", written);
        held.SetResult("done");
        await Task.WhenAll(checks).DefaultTimeout();
    }

    [Fact]
    public async Task A_refusal_and_a_failed_call_both_give_their_permit_back()
    {
        using var admission = Admission(checks: 1, writes: 1, batch: 1);
        var interceptor = new AdmissionInterceptor(admission);

        await Assert.ThrowsAsync<InvalidOperationException>(() => Unary(interceptor, BatchCheck, Task.FromException<string>(new InvalidOperationException("boom"))));
        await Assert.ThrowsAsync<InvalidOperationException>(() => interceptor.UnaryServerHandler<string, string>("r", TestServerCallContext.Create(BatchCheck), static (_, _) => throw new InvalidOperationException("sync")));

        Assert.Equal(0, admission.InFlight(CallClass.Batch));
        Assert.Equal("ok", await Unary(interceptor, BatchCheck, Task.FromResult("ok")).DefaultTimeout());
    }

    [Fact]
    public async Task Calls_of_no_class_are_never_bounded()
    {
        using var admission = Admission(checks: 1, writes: 1, batch: 1);
        var interceptor = new AdmissionInterceptor(admission);
        var held = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = Enumerable.Range(0, 5).Select(_ => Unary(interceptor, "/readhistory.internal.v1.CacheNode/ApplyChanges", held.Task)).ToList();

        held.SetResult("applied");

        Assert.All(await Task.WhenAll(calls).DefaultTimeout(), static r => Assert.Equal("applied", r));
    }

    [Fact]
    public async Task Each_ingest_message_holds_a_write_permit_while_it_is_handled()
    {
        using var admission = Admission(checks: 1, writes: 1, batch: 1);
        var interceptor = new AdmissionInterceptor(admission);
        var inFlight = new List<long>();

        var accepted = await interceptor.ClientStreamingServerHandler<string, string>(
            new ListReader(["a", "b", "c"]),
            TestServerCallContext.Create(Ingest),
            async (stream, _) =>
            {
                var sum = string.Empty;
                while (await stream.MoveNext(CancellationToken.None))
                {
                    inFlight.Add(admission.InFlight(CallClass.Writes));
                    sum += stream.Current;
                }

                return sum;
            }).DefaultTimeout();

        Assert.Equal("abc", accepted);
        Assert.Equal([1, 1, 1], inFlight);
        Assert.Equal(0, admission.InFlight(CallClass.Writes));
    }

    [Fact]
    public async Task An_ingest_message_past_the_write_bound_ends_the_stream_with_the_refusal()
    {
        using var admission = Admission(checks: 1, writes: 1, batch: 1);
        var interceptor = new AdmissionInterceptor(admission);
        var held = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var write = Unary(interceptor, MarkRead, held.Task);

        var refused = await Assert.ThrowsAsync<RpcException>(() => interceptor.ClientStreamingServerHandler<string, string>(
            new ListReader(["a"]),
            TestServerCallContext.Create(Ingest),
            static async (stream, _) => await stream.MoveNext(CancellationToken.None) ? stream.Current : string.Empty)).DefaultTimeout();

        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Contains("writes", refused.Status.Detail, StringComparison.Ordinal);
        Assert.NotNull(refused.Trailers.GetValue(AdmissionControl.RetryAfterTrailer));
        held.SetResult("done");
        await write.DefaultTimeout();
        Assert.Equal(0, admission.InFlight(CallClass.Writes));
    }

    [Fact]
    public async Task The_series_show_calls_in_flight_bounds_and_refusals_by_class()
    {
        var registry = Metrics.NewCustomRegistry();
        using var admission = Admission(checks: 1, writes: 4, batch: 0);
        AdmissionMetrics.Publish(registry, admission);
        var interceptor = new AdmissionInterceptor(admission);
        var held = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var check = Unary(interceptor, Check, held.Task);
        await Assert.ThrowsAsync<RpcException>(() => Unary(interceptor, Check, held.Task));

        var lines = await Exposition.ScrapeLinesAsync(registry);

        Assert.Contains("readhistory_admission_in_flight{class=\"checks\"} 1", lines);
        Assert.Contains("readhistory_admission_refused_total{class=\"checks\"} 1", lines);
        Assert.Contains("readhistory_admission_refused_total{class=\"writes\"} 0", lines);
        Assert.Contains("readhistory_admission_limit{class=\"writes\"} 4", lines);
        Assert.Contains("readhistory_admission_limit{class=\"batch\"} 0", lines);
        held.SetResult("done");
        await check.DefaultTimeout();
    }

    [Theory]
    [InlineData("/readhistory.v1.ReadHistory/Filter", "checks")]
    [InlineData("/readhistory.v1.ReadHistory/ForgetUser", "writes")]
    [InlineData("/readhistory.internal.v1.CacheNode/Forget", "writes")]
    [InlineData("/readhistory.internal.v1.CacheNode/BatchCheck", "batch")]
    [InlineData("/grpc.health.v1.Health/Check", "none")]
    [InlineData("/readhistory.internal.v1.CacheNode/Snapshot", "none")]
    public void Methods_fall_in_their_class(string method, string expected) =>
        Assert.Equal(expected, AdmissionControl.NameOf(AdmissionControl.ClassOf(method)));

    private static AdmissionControl Admission(int checks, int writes, int batch) =>
        new(new AdmissionLimits { Checks = checks, Writes = writes, Batch = batch }, "Node", TimeSpan.FromMilliseconds(20));

    private static Task<string> Unary(AdmissionInterceptor interceptor, string method, Task<string> answer) =>
        interceptor.UnaryServerHandler<string, string>("request", TestServerCallContext.Create(method), (_, _) => answer);

    private sealed class ListReader(string[] items) : IAsyncStreamReader<string>
    {
        private int _next = -1;

        public string Current => items[_next];

        public Task<bool> MoveNext(CancellationToken cancellationToken) => Task.FromResult(++_next < items.Length);
    }
}
