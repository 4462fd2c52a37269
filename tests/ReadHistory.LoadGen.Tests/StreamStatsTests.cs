using ReadHistory.LoadGen.Model;
using ReadHistory.LoadGen.Reporting;
using ReadHistory.LoadGen.Running;
using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.LoadGen.Tests;

public sealed class StreamStatsTests
{
    [Theory]
    [InlineData(50)]
    [InlineData(90)]
    [InlineData(99)]
    [InlineData(99.9)]
    public void Percentiles_match_a_sorted_array_within_a_tenth_of_a_percent(double percentile)
    {
        var (stats, values) = Record(100_000, seed: 11);

        var result = stats.Summarise(1);

        Array.Sort(values);
        var exact = values[(int)Math.Ceiling(percentile / 100 * values.Length) - 1] / 1000.0;
        var reported = percentile switch { 50 => result.P50Ms, 90 => result.P90Ms, 99 => result.P99Ms, _ => result.P999Ms };
        Assert.True(Math.Abs(reported - exact) <= 0.001 * exact, $"P{percentile}: exact {exact} ms, reported {reported} ms");
    }

    [Fact]
    public void The_report_shows_the_percentiles_and_max_of_the_measured_calls()
    {
        var (stats, values) = Record(10_000, seed: 3);
        var result = stats.Summarise(2);

        var report = MarkdownReport.Render(
            new MachineInfo(2, "4 GiB", "Linux", "abc", "readhistory-loadgen", "2026-01-01"),
            new WorkloadOptions { Users = 10 },
            new RunOptions { Scenario = "feed", Duration = TimeSpan.FromSeconds(2) },
            0,
            [new TargetResult("service", "feed", "open", 0, 2, [result], new TruthResult(0, 0, 0, 0, 0, 0, 0, 0, 0), null, [], 0, 0)]);

        var row = report.Split('\n').Single(l => l.StartsWith("| service | check |", StringComparison.Ordinal));
        var cells = row.Split('|', StringSplitOptions.TrimEntries);
        Assert.Equal(10_000, result.Completed);
        Assert.Equal(result.P50Ms.ToString("F2", System.Globalization.CultureInfo.InvariantCulture), cells[6]);
        Assert.Equal(result.P99Ms.ToString("F2", System.Globalization.CultureInfo.InvariantCulture), cells[8]);
        Assert.Equal(result.P999Ms.ToString("F2", System.Globalization.CultureInfo.InvariantCulture), cells[9]);
        Assert.Equal(result.MaxMs.ToString("F1", System.Globalization.CultureInfo.InvariantCulture), cells[10]);
        Assert.True(Math.Abs(result.MaxMs - (values.Max() / 1000.0)) <= 0.001 * values.Max() / 1000.0, $"max {result.MaxMs} ms, recorded {values.Max() / 1000.0} ms");
    }

    [Fact]
    public void A_call_admitted_on_its_retry_counts_its_whole_wait_in_the_latency_and_only_the_admitted_attempt_in_the_admitted_p99()
    {
        var clock = new ManualTimeProvider();
        var stats = new StreamStats("check", clock);
        stats.SetWindow(0, long.MaxValue);
        var intended = clock.GetTimestamp();
        clock.Advance(TimeSpan.FromMilliseconds(30));
        var retried = stats.Timestamp();
        clock.Advance(TimeSpan.FromMilliseconds(4));

        stats.Success(intended, 400, retried);
        var result = stats.Summarise(1);

        Assert.Equal(34, result.P99Ms, precision: 1);
        Assert.Equal(4, result.AdmittedP99Ms, precision: 1);
    }

    [Fact]
    public void A_progress_interval_holds_only_the_calls_since_the_last_one()
    {
        var clock = new ManualTimeProvider();
        var stats = new StreamStats("check", clock);
        stats.SetWindow(0, long.MaxValue);
        Complete(stats, clock, TimeSpan.FromMilliseconds(40));
        Assert.Equal(1, stats.TakeInterval().TotalCount);

        Complete(stats, clock, TimeSpan.FromMilliseconds(2));
        Complete(stats, clock, TimeSpan.FromMilliseconds(2));
        var interval = stats.TakeInterval();

        Assert.Equal(2, interval.TotalCount);
        Assert.InRange(interval.GetValueAtPercentile(99), 1_998, 2_002);
        Assert.Equal(3, stats.Latency.TotalCount);
    }

    [Fact]
    public void A_stream_with_no_successful_call_reports_zero_latencies()
    {
        var stats = new StreamStats("write", new ManualTimeProvider());

        var result = stats.Summarise(1);

        Assert.Equal([0.0, 0, 0, 0, 0], [result.P50Ms, result.P90Ms, result.P99Ms, result.P999Ms, result.MaxMs]);
        Assert.Equal(0, StreamStats.Milliseconds(stats.TakeInterval(), 99));
    }

    private static (StreamStats Stats, long[] Micros) Record(int count, int seed)
    {
        var clock = new ManualTimeProvider();
        var stats = new StreamStats("check", clock);
        stats.SetWindow(0, long.MaxValue);
        var random = new Random(seed);
        var values = new long[count];
        for (var i = 0; i < count; i++)
        {
            values[i] = (long)(Math.Exp(random.NextDouble() * 10) * 100); // log-uniform 100 µs .. 2.2 s, like latencies
            Complete(stats, clock, TimeSpan.FromMicroseconds(values[i]));
        }

        return (stats, values);
    }

    private static void Complete(StreamStats stats, ManualTimeProvider clock, TimeSpan latency)
    {
        var intended = clock.GetTimestamp();
        clock.Advance(latency);
        stats.Success(intended, 1);
    }
}
