using Xunit;
using System.Collections.Concurrent;
using System.Diagnostics;
using ReadHistory.LoadGen.Running;
using ReadHistory.LoadGen.Scheduling;

namespace ReadHistory.LoadGen.Tests;

[CollectionDefinition(nameof(SchedulerTimingTests), DisableParallelization = true)]
public sealed class SchedulerTimingTests;

[Collection(nameof(SchedulerTimingTests))]

public sealed class OpenLoopSchedulerTests
{
    [Fact]
    public async Task Calls_are_issued_at_their_intended_times_at_the_offered_rate()
    {
        var target = new RecordingCall(TimeSpan.Zero);
        var scheduler = new OpenLoopScheduler(TimeProvider.System, 200, 1000);
        await scheduler.RunAsync(target, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30)); // a bound against hangs, not on timing

        Assert.Equal(200, scheduler.Issued);
        var intervals = target.Intended.OrderBy(x => x.Key).Select(x => x.Value).ToArray();
        var step = Stopwatch.Frequency / 200.0;
        for (var i = 1; i < intervals.Length; i++)
        {
            Assert.InRange(intervals[i] - intervals[i - 1], (long)step - 1, (long)step + 1); // intended times are exact
        }

        // Every call ran; how late it started is the machine's business (measured by the runs, not asserted here).
        Assert.Equal(200, target.Lag.Count);
    }

    [Fact]
    public async Task A_slow_target_does_not_slow_the_offered_rate_and_its_queueing_shows_in_latency()
    {
        var target = new RecordingCall(TimeSpan.FromMilliseconds(200));
        var scheduler = new OpenLoopScheduler(TimeProvider.System, 100, 1000);
        await scheduler.RunAsync(target, TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(5), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30)); // a bound against hangs, not on timing

        Assert.Equal(50, scheduler.Issued); // a closed loop of one would have issued 3
        Assert.Equal(50, target.Completed);
    }

    [Fact]
    public async Task Calls_due_above_the_in_flight_cap_are_counted_not_issued()
    {
        var target = new RecordingCall(TimeSpan.FromSeconds(2));
        var scheduler = new OpenLoopScheduler(TimeProvider.System, 100, 10);
        await scheduler.RunAsync(target, TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(5), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30)); // a bound against hangs, not on timing

        Assert.Equal(10, scheduler.Issued);
        Assert.Equal(40, scheduler.Dropped);
        Assert.Equal(40, target.DroppedCount);
    }

    [Fact]
    public void Latency_is_measured_from_the_intended_start()
    {
        var clock = new ReadHistory.TestSupport.ManualTimeProvider();
        var stats = new StreamStats("check", clock);
        var intended = clock.GetTimestamp();
        stats.SetWindow(intended, intended + clock.TimestampFrequency);
        clock.Advance(TimeSpan.FromMilliseconds(250)); // the call started late (queued) and took time: both count
        stats.Success(intended, 400);
        Assert.InRange(stats.Latency.GetValueAtPercentile(50), 248_000, 252_000);
        Assert.Equal(400, stats.Items);
    }

    private sealed class RecordingCall(TimeSpan work) : IScheduledCall
    {
        private int _completed;
        private int _dropped;

        public ConcurrentDictionary<long, long> Intended { get; } = new();

        public ConcurrentDictionary<long, long> Lag { get; } = new();

        public int Completed => Volatile.Read(ref _completed);

        public int DroppedCount => Volatile.Read(ref _dropped);

        public async Task InvokeAsync(long sequence, long intended)
        {
            Intended[sequence] = intended;
            Lag[sequence] = Stopwatch.GetTimestamp() - intended;
            if (work > TimeSpan.Zero)
            {
                await Task.Delay(work);
            }

            Interlocked.Increment(ref _completed);
        }

        public void Dropped(long sequence, long intended) => Interlocked.Increment(ref _dropped);
    }
}
