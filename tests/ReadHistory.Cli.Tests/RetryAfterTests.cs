using Grpc.Core;
using ReadHistory.Api.V1;

namespace ReadHistory.Cli.Tests;

/// <summary>The CLI honours retry-after-ms: it waits and retries a refusal for load, a bounded number of times, within the deadline.</summary>
public sealed class RetryAfterTests
{
    private static readonly string[] CheckArgs = ["check", "--user", "1", "--type", "0", "--ids", "1"];

    [Fact]
    public async Task A_refusal_with_retry_after_ms_is_retried_after_the_wait_and_its_answer_printed()
    {
        var client = Refusing("1", failedCalls: 2);
        client.CheckResponse = new CheckResponse { ReadBitmap = Google.Protobuf.ByteString.CopyFrom(1), UnreadCount = 0 };

        var run = await CliRun.RunAsync(client, CheckArgs);

        Assert.Equal(0, run.ExitCode);
        Assert.Empty(run.Error);
        Assert.Equal(3, client.Requests.Count);
    }

    [Fact]
    public async Task Refusals_past_the_retries_end_as_resource_exhausted()
    {
        var client = Refusing("1");

        var run = await CliRun.RunAsync(client, "mark", "--user", "1", "--type", "0", "--ids", "1");

        Assert.Equal(9, run.ExitCode);
        Assert.StartsWith("error: RESOURCE_EXHAUSTED: ", run.Error, StringComparison.Ordinal);
        Assert.Equal(1 + RetryAfterClient.MaxRetries, client.Requests.Count);
    }

    [Fact]
    public async Task A_refusal_without_a_hint_is_not_retried()
    {
        var client = new FakeReadHistoryClient { Failure = new Status(StatusCode.ResourceExhausted, "message too large") };

        var run = await CliRun.RunAsync(client, CheckArgs);

        Assert.Equal(9, run.ExitCode);
        Assert.Single(client.Requests);
    }

    [Fact]
    public async Task A_wait_that_ends_past_the_deadline_is_not_taken()
    {
        var client = Refusing("60000");

        var run = await CliRun.RunAsync(client, [.. CheckArgs, "--deadline-ms", "100"]);

        Assert.Equal(9, run.ExitCode);
        Assert.Single(client.Requests);
    }

    private static FakeReadHistoryClient Refusing(string retryAfterMs, int failedCalls = int.MaxValue) => new()
    {
        Failure = new Status(StatusCode.ResourceExhausted, "overloaded: checks in flight are at this node's limit of 64"),
        FailureTrailers = new Metadata { { "retry-after-ms", retryAfterMs } },
        FailedCalls = failedCalls,
    };
}
