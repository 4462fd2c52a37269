namespace ReadHistory.Telemetry;

/// <summary>The Prometheus metric type an instrument is exported as, and how its measurements combine.</summary>
internal enum MetricType
{
    /// <summary>A monotonic total; measurements are deltas added up (Counter).</summary>
    Counter,

    /// <summary>A monotonic total observed whole at each scrape (ObservableCounter).</summary>
    ObservedCounter,

    /// <summary>A value that goes up and down; measurements are deltas added up (UpDownCounter).</summary>
    SummedGauge,

    /// <summary>A value that goes up and down; the last measurement wins (Gauge, ObservableGauge, ObservableUpDownCounter).</summary>
    Gauge,

    /// <summary>A distribution counted in buckets (Histogram).</summary>
    Histogram,
}
