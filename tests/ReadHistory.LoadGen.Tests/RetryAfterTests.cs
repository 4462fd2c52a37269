using Grpc.Core;
using ReadHistory.LoadGen.Running;
using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.LoadGen.Tests;

/// <summary>The load generator honours retry-after-ms: one retry after the hinted wait, within the deadline, refusals counted apart.</summary>
public sealed class RetryAfterTests
{
    private static readonly RpcException Refusal = new(new Status(StatusCode.ResourceExhausted, "overloaded"), new Metadata { { "retry-after-ms", "20" } });

    [Fact]
    public void A_refusal_with_a_hint_is_retried_once_after_the_hinted_wait_and_counted()
    {
        var (stats, intended) = Measuring();

        var first = stats.RetryWait(intended, Refusal, attempt: 0, budget: TimeSpan.FromMilliseconds(90));
        var second = stats.RetryWait(intended, Refusal, attempt: 1, budget: TimeSpan.FromMilliseconds(90));

        Assert.Equal(TimeSpan.FromMilliseconds(20), first);
        Assert.Null(second);
        Assert.Equal(2, stats.Refused);
        Assert.Equal(2, stats.Summarise(1).Refused);
    }

    [Fact]
    public void A_wait_past_the_deadline_a_target_without_retries_and_other_failures_are_not_retried()
    {
        var (stats, intended) = Measuring();

        Assert.Null(stats.RetryWait(intended, Refusal, 0, TimeSpan.FromMilliseconds(10)));
        Assert.Null(stats.RetryWait(intended, Refusal, 0, budget: null));
        Assert.Null(stats.RetryWait(intended, new RpcException(new Status(StatusCode.ResourceExhausted, "too large")), 0, TimeSpan.FromSeconds(1)));
        Assert.Null(stats.RetryWait(intended, new RpcException(new Status(StatusCode.Unavailable, "down"), new Metadata { { "retry-after-ms", "1" } }), 0, TimeSpan.FromSeconds(1)));
        Assert.Equal(2, stats.Refused);
    }

    private static (StreamStats Stats, long Intended) Measuring()
    {
        var time = new ManualTimeProvider();
        var stats = new StreamStats("check", time);
        var now = time.GetTimestamp();
        stats.SetWindow(now, now + time.TimestampFrequency);
        return (stats, now);
    }
}
