using Grpc.Net.Client;
using ReadHistory.Benchmarks.Fuzzing;
using ReadHistory.Server.IntegrationTests.Hosting;
using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.Server.IntegrationTests.Conformance;

/// <summary>
/// A short slice of <c>fuzz-grpc</c> (bench/README.md) against a host of role all with API keys on: every answer a
/// documented status, never INTERNAL for a well-formed request, never UNKNOWN, no hang, and a MarkRead then a Check
/// still answer read afterwards.
/// </summary>
[Collection(MariaDbFixture.Collection)]
public sealed class GrpcFuzzSliceTests(MariaDbFixture mariaDb)
{
    [Fact]
    public async Task Two_thousand_fuzzed_calls_get_documented_statuses_and_leave_the_service_correct()
    {
        var settings = TestHost.Settings("all", mariaDb.Server.ConnectionString(), "fuzz" + Guid.NewGuid().ToString("N")[..8]);
        GrpcFuzzer.Configure(settings);
        await using var host = await TestHost.StartReadyAsync(settings);
        using var channel = GrpcChannel.ForAddress(host.Grpc);
        using var oversizeChannel = GrpcChannel.ForAddress(host.Grpc);
        var invoker = channel.CreateCallInvoker();

        var report = await new GrpcFuzzer(invoker, oversizeChannel.CreateCallInvoker(), seed: 1, workers: 8).RunAsync(2_000).WaitAsync(TimeSpan.FromMinutes(10));
        var problem = await GrpcFuzzer.VerifyCorrectnessAsync(invoker).DefaultTimeout();

        // The one finding allowed: Kestrel closing a whole connection (STREAM_CLOSED) under well-formed calls, seen 20
        // times in 1,000,000 calls of fuzz-grpc and recorded in bench/RESULTS.md ("Fuzzing"); the call that provokes it is
        // not identified yet. Every other kind (INTERNAL or UNKNOWN for an answer, an undocumented status, a hang) fails.
        Assert.True(report.FindingCounts.Keys.All(kind => kind == GrpcFuzzer.ConnectionClosedKind), report.ToString());
        Assert.Equal(2_000, report.Inputs);
        Assert.Null(problem);
    }
}
