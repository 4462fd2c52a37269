using System.Threading.RateLimiting;
using Grpc.Core;
using ReadHistory.Server.Api.Admission;
using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.Server.Tests.Api.Admission;

/// <summary>
/// The adaptive bound of a proxy's checks: it falls by a quarter per window whose fastest call was slower than the
/// target, rises by an eighth per window that filled it with fast calls, stays within floor and maximum, and refuses
/// past the bound at once.
/// </summary>
public sealed class AdaptiveConcurrencyLimiterTests
{
    private static readonly TimeSpan Target = TimeSpan.FromMilliseconds(5);
    private readonly ManualTimeProvider _time = new();

    [Fact]
    public void A_window_whose_fastest_call_was_slower_than_the_target_lowers_the_bound_by_a_quarter()
    {
        using var limiter = new AdaptiveConcurrencyLimiter(100, Target, _time);

        Window(limiter, calls: 10, each: TimeSpan.FromMilliseconds(6));
        var once = limiter.Limit;
        Window(limiter, calls: 10, each: TimeSpan.FromMilliseconds(6));

        Assert.Equal(75, once);
        Assert.Equal(57, limiter.Limit);
    }

    [Fact]
    public void One_fast_call_in_a_window_means_no_standing_queue()
    {
        using var limiter = new AdaptiveConcurrencyLimiter(100, Target, _time);
        var fast = limiter.AttemptAcquire();
        var slow = limiter.AttemptAcquire();

        _time.Advance(TimeSpan.FromMilliseconds(1));
        fast.Dispose();
        _time.Advance(TimeSpan.FromMilliseconds(99));
        slow.Dispose();
        _time.Advance(TimeSpan.FromMilliseconds(1));
        limiter.AttemptAcquire().Dispose();

        Assert.Equal(100, limiter.Limit);
    }

    [Fact]
    public void The_bound_never_falls_below_the_floor()
    {
        using var limiter = new AdaptiveConcurrencyLimiter(100, Target, _time);

        for (var i = 0; i < 40; i++)
        {
            Window(limiter, calls: 2, each: TimeSpan.FromMilliseconds(50));
        }

        Assert.Equal(AdaptiveConcurrencyLimiter.Floor, limiter.Limit);
    }

    [Fact]
    public void Fast_windows_that_fill_the_bound_raise_it_by_an_eighth_up_to_the_maximum()
    {
        using var limiter = new AdaptiveConcurrencyLimiter(64, Target, _time);
        for (var i = 0; i < 6; i++)
        {
            Window(limiter, calls: 2, each: TimeSpan.FromMilliseconds(50));
        }

        var lowered = limiter.Limit;
        FullWindow(limiter);
        var raised = limiter.Limit;
        for (var i = 0; i < 40; i++)
        {
            FullWindow(limiter);
        }

        Assert.Equal(12, lowered);
        Assert.Equal(13, raised);
        Assert.Equal(64, limiter.Limit);
    }

    [Fact]
    public void Fast_windows_that_never_fill_the_bound_leave_it_where_it_is()
    {
        using var limiter = new AdaptiveConcurrencyLimiter(64, Target, _time);
        Window(limiter, calls: 2, each: TimeSpan.FromMilliseconds(50));

        for (var i = 0; i < 10; i++)
        {
            Window(limiter, calls: 2, each: TimeSpan.FromMilliseconds(1));
        }

        Assert.Equal(48, limiter.Limit);
    }

    [Fact]
    public void Past_the_bound_a_lease_is_refused_at_once_and_counted()
    {
        using var limiter = new AdaptiveConcurrencyLimiter(2, Target, _time);

        using var first = limiter.AttemptAcquire();
        using var second = limiter.AttemptAcquire();
        using var third = limiter.AttemptAcquire();
        var statistics = limiter.GetStatistics()!;

        Assert.True(first.IsAcquired);
        Assert.True(second.IsAcquired);
        Assert.False(third.IsAcquired);
        Assert.Equal(2, limiter.InFlight);
        Assert.Equal(1, statistics.TotalFailedLeases);
        Assert.Equal(2, statistics.TotalSuccessfulLeases);
        Assert.Equal(0, statistics.CurrentAvailablePermits);
    }

    [Fact]
    public void A_lease_disposed_twice_gives_its_permit_back_once()
    {
        using var limiter = new AdaptiveConcurrencyLimiter(2, Target, _time);
        var lease = limiter.AttemptAcquire();
        using var other = limiter.AttemptAcquire();

        lease.Dispose();
        lease.Dispose();

        Assert.Equal(1, limiter.InFlight);
    }

    [Fact]
    public void A_proxys_refusal_names_the_adapted_bound_and_the_target_and_carries_retry_after()
    {
        var limits = new AdmissionLimits { Checks = 8, Writes = 16, Batch = 2, TargetLatency = Target };
        using var admission = new AdmissionControl(limits, nameof(AdmissionOptions.Proxy), TimeSpan.FromMilliseconds(20), _time);
        var held = Enumerable.Range(0, 8).Select(_ => admission.Enter(CallClass.Checks)).ToList();

        var refusal = Assert.Throws<RpcException>(() => admission.Enter(CallClass.Checks));
        var write = admission.Enter(CallClass.Writes);

        Assert.Equal(StatusCode.ResourceExhausted, refusal.StatusCode);
        Assert.Contains("limit of 8, lowered from 8 (ReadHistory:Admission:Proxy:Checks)", refusal.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("ReadHistory:Admission:Proxy:TargetLatency", refusal.Status.Detail, StringComparison.Ordinal);
        Assert.Equal("20", refusal.Trailers.GetValue(AdmissionControl.RetryAfterTrailer));
        Assert.True(write.IsAcquired);
        Assert.Equal(8, admission.LimitOf(CallClass.Checks));
        Assert.Equal(16, admission.LimitOf(CallClass.Writes));
        write.Dispose();
        held.ForEach(l => l.Dispose());
    }

    [Fact]
    public void Writes_and_a_node_never_adapt()
    {
        var limits = new AdmissionLimits { Checks = 8, Writes = 16, Batch = 2, TargetLatency = Target };

        Assert.True(limits.Adapts(CallClass.Checks));
        Assert.True(limits.Adapts(CallClass.Batch));
        Assert.False(limits.Adapts(CallClass.Writes));
        Assert.False(new AdmissionLimits { Checks = 8 }.Adapts(CallClass.Checks));
        Assert.False(new AdmissionLimits { Checks = 0, TargetLatency = Target }.Adapts(CallClass.Checks));
    }

    // Calls admitted together and finished together `each` later, then the window closed by one more call as long.
    private void Window(AdaptiveConcurrencyLimiter limiter, int calls, TimeSpan each)
    {
        var leases = Enumerable.Range(0, calls).Select(_ => limiter.AttemptAcquire()).ToList();
        Assert.All(leases, l => Assert.True(l.IsAcquired));
        _time.Advance(each);
        leases.ForEach(l => l.Dispose());
        _time.Advance(AdaptiveConcurrencyLimiter.Interval);
        var closing = limiter.AttemptAcquire();
        _time.Advance(each);
        closing.Dispose();
    }

    // A window in which the bound was reached (one more call refused) and every call was fast.
    private void FullWindow(AdaptiveConcurrencyLimiter limiter)
    {
        var leases = new List<RateLimitLease>();
        for (var lease = limiter.AttemptAcquire(); lease.IsAcquired; lease = limiter.AttemptAcquire())
        {
            leases.Add(lease);
        }

        _time.Advance(TimeSpan.FromMilliseconds(1));
        leases.ForEach(l => l.Dispose());
        _time.Advance(AdaptiveConcurrencyLimiter.Interval);
        limiter.AttemptAcquire().Dispose();
    }
}
