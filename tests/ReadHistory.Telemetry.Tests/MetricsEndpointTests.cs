using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.Telemetry.Tests;

/// <summary>In-process tier: Kestrel on loopback serves /metrics, and promtool judges what it serves.</summary>
public sealed class MetricsEndpointTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task The_metrics_endpoint_serves_text_that_promtool_accepts()
    {
        using var meter = new Meter("ReadHistory.Tests." + Guid.NewGuid().ToString("N"));
        await using var app = await StartAppAsync(meter.Name);
        RecordSeveralInstruments(meter);

        using var http = new HttpClient { BaseAddress = BaseAddress(app), Timeout = Timeout };
        using var response = await http.GetAsync(new Uri("/metrics", UriKind.Relative));
        var body = await response.Content.ReadAsStringAsync();

        response.EnsureSuccessStatusCode();
        Assert.Equal(MetricsCollector.ContentType, response.Content.Headers.ContentType?.ToString());
        Assert.Contains("readhistory_rpc_requests_total{method=\"Check\",status=\"OK\"} 3", body, StringComparison.Ordinal);
        Assert.Contains("readhistory_rpc_duration_seconds_bucket{method=\"Check\",le=\"+Inf\"} 2", body, StringComparison.Ordinal);
        Assert.Contains("readhistory_telemetry_series_dropped_total", body, StringComparison.Ordinal);

        // promtool exits non-zero on a parse error or a lint problem; a missing promtool fails the test too.
        await ChildProcess.RunAsync("promtool", ["check", "metrics"], standardInput: body, timeout: Timeout);
    }

    [Fact]
    public async Task Measurements_recorded_before_the_first_scrape_are_kept()
    {
        using var meter = new Meter("ReadHistory.Tests." + Guid.NewGuid().ToString("N"));
        await using var app = await StartAppAsync(meter.Name);
        meter.CreateCounter<long>("readhistory_test_early_total").Add(4);

        using var http = new HttpClient { BaseAddress = BaseAddress(app), Timeout = Timeout };
        var body = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative));

        Assert.Contains("readhistory_test_early_total 4", body, StringComparison.Ordinal);
    }

    private static async Task<WebApplication> StartAppAsync(string meterName)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddPrometheusExposition(options =>
        {
            options.MeterPrefixes = [meterName];
            options.MaxSeriesPerInstrument = 3;
        });
        var app = builder.Build();
        app.MapPrometheusMetrics("/metrics");
        await app.StartAsync().WaitAsync(Timeout);
        return app;
    }

    private static Uri BaseAddress(WebApplication app) =>
        new(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First());

    private static void RecordSeveralInstruments(Meter meter)
    {
        var requests = meter.CreateCounter<long>("readhistory_rpc_requests_total", description: "gRPC calls answered, by method and status.");
        var duration = meter.CreateHistogram<double>("readhistory_rpc_duration_seconds", unit: "s", description: "gRPC call duration.");
        var inFlight = meter.CreateUpDownCounter<int>("readhistory_rpc_in_flight_calls", description: "gRPC calls being served.");
        var rows = meter.CreateHistogram<int>("readhistory_storage_batch_rows", description: "Rows per group commit.",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 10, 100, 1000] });
        var fill = meter.CreateGauge<double>("readhistory_cache_fill_ratio", description: "Share of the \"memory\" budget in use.\nPer pool.");
        meter.CreateObservableGauge("readhistory_cache_memory_bytes", () => new Measurement<long>(1 << 20, new KeyValuePair<string, object?>("pool", "feed")),
            unit: "By", description: "Bytes held by filters.");
        meter.CreateObservableCounter("readhistory_cdc_events", () => 12L, description: "Binlog events read.");
        var failures = meter.CreateCounter<long>("readhistory_test_failures_total", description: "Calls that failed, by reason.");

        KeyValuePair<string, object?> check = new("method", "Check"), ok = new("status", "OK");
        for (var i = 0; i < 3; i++)
        {
            requests.Add(1, check, ok);
        }

        requests.Add(1, check, new KeyValuePair<string, object?>("status", "UNAVAILABLE"));
        duration.Record(0.004, check);
        duration.Record(0.07, check);
        duration.Record(double.PositiveInfinity, new KeyValuePair<string, object?>("method", "MarkRead"));
        inFlight.Add(2);
        inFlight.Add(-1);
        rows.Record(42, new KeyValuePair<string, object?>("shard", 3));
        fill.Record(0.75, new KeyValuePair<string, object?>("pool", "feed"));
        fill.Record(double.NaN, new KeyValuePair<string, object?>("pool", "push"));
        for (var i = 0; i < 5; i++)
        {
            // Past the cap of 3 label sets: two are dropped and counted.
            failures.Add(1, new KeyValuePair<string, object?>("reason", "weird \"reason\" \\ " + i + "\nsecond line"));
        }
    }
}
