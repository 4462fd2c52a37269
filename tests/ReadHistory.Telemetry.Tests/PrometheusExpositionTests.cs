using System.Diagnostics.Metrics;
using Xunit;

namespace ReadHistory.Telemetry.Tests;

public sealed class PrometheusExpositionTests
{
    [Fact]
    public void A_counter_named_with_total_is_exported_as_is_with_help_and_type()
    {
        using var test = new TestMeter();
        var counter = test.Meter.CreateCounter<long>("readhistory_rpc_requests_total", description: "gRPC calls answered.");

        counter.Add(2);
        counter.Add(3);

        Assert.Equal(
            ["# HELP readhistory_rpc_requests_total gRPC calls answered.", "# TYPE readhistory_rpc_requests_total counter", "readhistory_rpc_requests_total 5", ""],
            test.ScrapeLines());
    }

    [Fact]
    public void A_counter_without_total_gets_the_suffix_after_its_unit()
    {
        using var test = new TestMeter();
        test.Meter.CreateCounter<long>("readhistory.ingest.received", unit: "By").Add(7);

        Assert.Contains("readhistory_ingest_received_bytes_total 7", test.ScrapeLines());
    }

    [Fact]
    public void A_histogram_in_seconds_named_with_its_unit_keeps_its_name()
    {
        using var test = new TestMeter();
        test.Meter.CreateHistogram<double>("readhistory_rpc_duration_seconds", unit: "s").Record(0.003);

        Assert.Contains("# TYPE readhistory_rpc_duration_seconds histogram", test.ScrapeLines());
    }

    [Fact]
    public void Label_values_escape_backslash_quote_and_newline()
    {
        using var test = new TestMeter();
        test.Meter.CreateCounter<int>("readhistory_test_events_total").Add(1, new KeyValuePair<string, object?>("path", "a\\b\"c\nd"));

        Assert.Contains("readhistory_test_events_total{path=\"a\\\\b\\\"c\\nd\"} 1", test.ScrapeLines());
    }

    [Fact]
    public void Help_escapes_backslash_and_newline_and_falls_back_to_the_name()
    {
        using var test = new TestMeter();
        test.Meter.CreateCounter<int>("readhistory_test_a_total", description: "one\\two\nthree").Add(1);
        test.Meter.CreateCounter<int>("readhistory_test_b_total").Add(1);

        var lines = test.ScrapeLines();

        Assert.Contains("# HELP readhistory_test_a_total one\\\\two\\nthree", lines);
        Assert.Contains("# HELP readhistory_test_b_total readhistory_test_b_total from meter " + test.Meter.Name, lines);
    }

    [Fact]
    public void Histogram_buckets_are_cumulative_and_end_with_inf_sum_and_count()
    {
        using var test = new TestMeter();
        var histogram = test.Meter.CreateHistogram<double>("readhistory_test_wait_seconds", unit: "s");

        foreach (var value in new[] { 0.0004, 0.001, 0.003, 0.2, 20 })
        {
            histogram.Record(value);
        }

        var samples = test.ScrapeLines().Where(l => l.StartsWith("readhistory_test_wait_seconds", StringComparison.Ordinal)).ToArray();
        Assert.Equal(
        [
            "readhistory_test_wait_seconds_bucket{le=\"0.0005\"} 1",
            "readhistory_test_wait_seconds_bucket{le=\"0.001\"} 2",
            "readhistory_test_wait_seconds_bucket{le=\"0.0025\"} 2",
            "readhistory_test_wait_seconds_bucket{le=\"0.005\"} 3",
            "readhistory_test_wait_seconds_bucket{le=\"0.01\"} 3",
            "readhistory_test_wait_seconds_bucket{le=\"0.025\"} 3",
            "readhistory_test_wait_seconds_bucket{le=\"0.05\"} 3",
            "readhistory_test_wait_seconds_bucket{le=\"0.1\"} 3",
            "readhistory_test_wait_seconds_bucket{le=\"0.25\"} 4",
            "readhistory_test_wait_seconds_bucket{le=\"0.5\"} 4",
            "readhistory_test_wait_seconds_bucket{le=\"1\"} 4",
            "readhistory_test_wait_seconds_bucket{le=\"2.5\"} 4",
            "readhistory_test_wait_seconds_bucket{le=\"5\"} 4",
            "readhistory_test_wait_seconds_bucket{le=\"10\"} 4",
            "readhistory_test_wait_seconds_bucket{le=\"+Inf\"} 5",
            "readhistory_test_wait_seconds_sum 20.2044",
            "readhistory_test_wait_seconds_count 5",
        ], samples);
    }

    [Fact]
    public void Histogram_uses_the_advised_bucket_boundaries_after_the_labels()
    {
        using var test = new TestMeter();
        var histogram = test.Meter.CreateHistogram<long>("readhistory_test_batch_rows", unit: "{row}", description: "Rows per batch.",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [10, 100] });

        histogram.Record(50, new KeyValuePair<string, object?>("role", "cache"));

        var samples = test.ScrapeLines().Where(l => l.StartsWith("readhistory_test_batch_rows", StringComparison.Ordinal)).ToArray();
        Assert.Equal(
        [
            "readhistory_test_batch_rows_bucket{role=\"cache\",le=\"10\"} 0",
            "readhistory_test_batch_rows_bucket{role=\"cache\",le=\"100\"} 1",
            "readhistory_test_batch_rows_bucket{role=\"cache\",le=\"+Inf\"} 1",
            "readhistory_test_batch_rows_sum{role=\"cache\"} 50",
            "readhistory_test_batch_rows_count{role=\"cache\"} 1",
        ], samples);
    }

    [Fact]
    public void An_up_down_counter_is_a_gauge_that_adds_deltas()
    {
        using var test = new TestMeter();
        var inFlight = test.Meter.CreateUpDownCounter<int>("readhistory_rpc_in_flight_calls");

        inFlight.Add(3);
        inFlight.Add(-1);

        var lines = test.ScrapeLines();
        Assert.Contains("# TYPE readhistory_rpc_in_flight_calls gauge", lines);
        Assert.Contains("readhistory_rpc_in_flight_calls 2", lines);
    }

    [Fact]
    public void A_gauge_keeps_the_last_value_recorded()
    {
        using var test = new TestMeter();
        var gauge = test.Meter.CreateGauge<double>("readhistory_cache_fill_ratio");

        gauge.Record(0.5);
        gauge.Record(0.25);

        var lines = test.ScrapeLines();
        Assert.Contains("# TYPE readhistory_cache_fill_ratio gauge", lines);
        Assert.Contains("readhistory_cache_fill_ratio 0.25", lines);
    }

    [Fact]
    public void Observable_instruments_are_observed_at_each_scrape_and_vanished_label_sets_go()
    {
        using var test = new TestMeter();
        var pools = new List<string> { "feed", "push" };
        test.Meter.CreateObservableGauge("readhistory_cache_users", () => pools.Select(p => new Measurement<long>(p.Length, new KeyValuePair<string, object?>("pool", p))));
        test.Meter.CreateObservableCounter("readhistory_cdc_events_total", () => 42L);
        test.Meter.CreateObservableUpDownCounter("readhistory_cdc_lag_events", () => -3);

        var first = test.ScrapeLines();
        pools.Remove("push");
        var second = test.ScrapeLines();

        Assert.Contains("readhistory_cache_users{pool=\"push\"} 4", first);
        Assert.DoesNotContain("readhistory_cache_users{pool=\"push\"} 4", second);
        Assert.Contains("readhistory_cache_users{pool=\"feed\"} 4", second);
        Assert.Contains("# TYPE readhistory_cdc_events_total counter", second);
        Assert.Contains("readhistory_cdc_events_total 42", second);
        Assert.Contains("# TYPE readhistory_cdc_lag_events gauge", second);
        Assert.Contains("readhistory_cdc_lag_events -3", second);
    }

    [Fact]
    public void Each_tag_set_is_its_own_series_whatever_the_tag_order()
    {
        using var test = new TestMeter();
        var counter = test.Meter.CreateCounter<long>("readhistory_rpc_requests_total");
        KeyValuePair<string, object?> check = new("method", "Check"), ok = new("status", "OK"), failed = new("status", "UNAVAILABLE");

        counter.Add(1, check, ok);
        counter.Add(1, ok, check);
        counter.Add(1, check, failed);

        var samples = test.ScrapeLines().Where(l => l.StartsWith("readhistory_rpc_requests_total{", StringComparison.Ordinal)).ToArray();
        Assert.Equal(
        [
            "readhistory_rpc_requests_total{method=\"Check\",status=\"OK\"} 2",
            "readhistory_rpc_requests_total{method=\"Check\",status=\"UNAVAILABLE\"} 1",
        ], samples);
    }

    [Fact]
    public void Tag_sets_past_the_cap_are_dropped_and_counted_while_kept_series_go_on()
    {
        using var test = new TestMeter(maxSeriesPerInstrument: 2);
        var counter = test.Meter.CreateCounter<long>("readhistory_test_calls_total");

        for (var user = 0; user < 5; user++)
        {
            counter.Add(1, new KeyValuePair<string, object?>("user", user));
        }

        counter.Add(10, new KeyValuePair<string, object?>("user", 0));

        var lines = test.ScrapeLines();
        Assert.Equal(2, lines.Count(l => l.StartsWith("readhistory_test_calls_total{", StringComparison.Ordinal)));
        Assert.Contains("readhistory_test_calls_total{user=\"0\"} 11", lines);
        Assert.Contains("# TYPE readhistory_telemetry_series_dropped_total counter", lines);
        Assert.Contains("readhistory_telemetry_series_dropped_total{metric=\"readhistory_test_calls_total\"} 3", lines);
    }

    [Theory]
    [InlineData(double.NaN, "NaN")]
    [InlineData(double.PositiveInfinity, "+Inf")]
    [InlineData(double.NegativeInfinity, "-Inf")]
    [InlineData(1.5e-7, "1.5E-07")]
    [InlineData(1234567.25, "1234567.25")]
    public void Numbers_are_written_in_the_invariant_exposition_form(double value, string expected)
    {
        using var test = new TestMeter();
        test.Meter.CreateGauge<double>("readhistory_test_value").Record(value);

        Assert.Contains("readhistory_test_value " + expected, test.ScrapeLines());
    }

    [Fact]
    public void Meters_outside_the_prefixes_are_not_exported()
    {
        using var test = new TestMeter();
        using var other = new Meter("Other.Tests." + Guid.NewGuid().ToString("N"));
        other.CreateCounter<int>("other_calls_total").Add(1);

        Assert.DoesNotContain(test.ScrapeLines(), l => l.Contains("other_calls", StringComparison.Ordinal));
    }

    [Fact]
    public void A_disposed_meter_disappears_from_the_exposition()
    {
        using var test = new TestMeter();
        test.Meter.CreateCounter<int>("readhistory_test_gone_total").Add(1);

        test.Meter.Dispose();

        Assert.Equal([""], test.ScrapeLines());
    }

    [Fact]
    public async Task Concurrent_recording_loses_no_measurement()
    {
        using var test = new TestMeter();
        var counter = test.Meter.CreateCounter<long>("readhistory_test_parallel_total");
        var histogram = test.Meter.CreateHistogram<double>("readhistory_test_parallel_seconds", unit: "s");
        KeyValuePair<string, object?> tag = new("role", "proxy");

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 25_000; i++)
            {
                counter.Add(1, tag);
                histogram.Record(0.001, tag);
            }
        }))).WaitAsync(TimeSpan.FromSeconds(30));

        var lines = test.ScrapeLines();
        Assert.Contains("readhistory_test_parallel_total{role=\"proxy\"} 100000", lines);
        Assert.Contains("readhistory_test_parallel_seconds_count{role=\"proxy\"} 100000", lines);
    }

    [Fact]
    public void The_content_type_is_text_format_0_0_4()
    {
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", MetricsCollector.ContentType);
    }
}
