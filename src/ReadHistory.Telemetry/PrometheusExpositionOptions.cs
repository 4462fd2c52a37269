namespace ReadHistory.Telemetry;

/// <summary>What the Prometheus exposition listens to and how much it may keep.</summary>
public sealed class PrometheusExpositionOptions
{
    /// <summary>The default histogram bucket upper bounds, in seconds, used when an instrument gives no advice.</summary>
    public static IReadOnlyList<double> DefaultSecondsBoundaries { get; } =
        [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    /// <summary>Meters whose name starts with one of these (ordinal) are exported; an empty list exports every meter.</summary>
    public IList<string> MeterPrefixes { get; set; } = ["ReadHistory"];

    /// <summary>The most label sets kept per instrument; measurements for further label sets are counted and dropped.</summary>
    public int MaxSeriesPerInstrument { get; set; } = 1000;

    /// <summary>Histogram bucket upper bounds for instruments without <c>HistogramBucketBoundaries</c> advice.</summary>
    public IReadOnlyList<double> DefaultHistogramBoundaries { get; set; } = DefaultSecondsBoundaries;
}
