namespace ReadHistory.Server;

/// <summary>Histogram bucket upper bounds shared by the project's histograms (see docs/metrics.md, "Adding a metric").</summary>
internal static class MetricBuckets
{
    /// <summary>
    /// Durations in seconds, 0.5 ms to 10 s: the bounds every histogram without buckets of its own has been exported
    /// with (rebuild and commit durations), so dashboards and recorded quantiles stay comparable.
    /// </summary>
    public static double[] Seconds { get; } = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
}
