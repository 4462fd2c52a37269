using System.Diagnostics.Metrics;

namespace ReadHistory.Telemetry.Tests;

/// <summary>A meter with a name of its own and a collector that listens to it only, so tests run in any order.</summary>
internal sealed class TestMeter : IDisposable
{
    public TestMeter(int maxSeriesPerInstrument = 1000)
    {
        Meter = new Meter("ReadHistory.Tests." + Guid.NewGuid().ToString("N"));
        Collector = new MetricsCollector(new PrometheusExpositionOptions
        {
            MeterPrefixes = [Meter.Name],
            MaxSeriesPerInstrument = maxSeriesPerInstrument,
        });
    }

    public Meter Meter { get; }

    public MetricsCollector Collector { get; }

    public string[] ScrapeLines() => Collector.Collect().Split('\n');

    public void Dispose()
    {
        Collector.Dispose();
        Meter.Dispose();
    }
}
