using System.Globalization;
using System.Text;

namespace ReadHistory.Telemetry;

/// <summary>
/// Writes aggregated series in the Prometheus text exposition format 0.0.4
/// (https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format):
/// <code>
/// # HELP name escaped help
/// # TYPE name counter|gauge|histogram
/// name{label="escaped value",...} value
/// name_bucket{...,le="0.5"} cumulative count   (histograms; then le="+Inf", name_sum, name_count)
/// </code>
/// </summary>
internal static class PrometheusTextFormatter
{
    /// <summary>The name of the family that counts measurements dropped by the label-set cap.</summary>
    public const string DroppedMetricName = "readhistory_telemetry_series_dropped_total";

    /// <summary>Writes every family; <paramref name="aggregators"/> are sorted by name and share a type within a name.</summary>
    public static void Write(StringBuilder text, IReadOnlyList<InstrumentAggregator> aggregators)
    {
        var seenLabels = new HashSet<string>(StringComparer.Ordinal);
        string? family = null;
        foreach (var aggregator in aggregators)
        {
            if (!string.Equals(aggregator.Name, family, StringComparison.Ordinal))
            {
                family = aggregator.Name;
                seenLabels.Clear();
                WriteHeader(text, family, HelpOf(aggregator), TypeWord(aggregator.Type));
            }

            var series = aggregator.Series.ToArray();
            Array.Sort(series, static (a, b) => string.CompareOrdinal(a.Tags.Labels, b.Tags.Labels));
            foreach (var one in series)
            {
                // Two instruments (or tag values of different types) can render the same labels; a family must not repeat a series.
                if (!seenLabels.Add(one.Tags.Labels))
                {
                    continue;
                }

                if (aggregator.Type == MetricType.Histogram)
                {
                    WriteHistogram(text, aggregator.Name, one, aggregator.UpperBounds);
                }
                else
                {
                    WriteSample(text, aggregator.Name, string.Empty, one.Tags.Labels, null, one.Value);
                }
            }
        }

        WriteDropped(text, aggregators);
    }

    /// <summary>Appends a label value with backslash, double quote and line feed escaped.</summary>
    public static void AppendEscapedLabelValue(StringBuilder text, string value)
    {
        foreach (var c in value)
        {
            _ = c switch
            {
                '\\' => text.Append(@"\\"),
                '"' => text.Append("\\\""),
                '\n' => text.Append(@"\n"),
                _ => text.Append(c),
            };
        }
    }

    /// <summary>Appends a number as Prometheus reads it: shortest round-trip invariant form, <c>NaN</c>, <c>+Inf</c>, <c>-Inf</c>.</summary>
    public static void AppendNumber(StringBuilder text, double value)
    {
        if (double.IsNaN(value))
        {
            text.Append("NaN");
        }
        else if (double.IsPositiveInfinity(value))
        {
            text.Append("+Inf");
        }
        else if (double.IsNegativeInfinity(value))
        {
            text.Append("-Inf");
        }
        else
        {
            Span<char> digits = stackalloc char[32];
            value.TryFormat(digits, out var written, default, CultureInfo.InvariantCulture);
            text.Append(digits[..written]);
        }
    }

    private static void WriteHeader(StringBuilder text, string name, string help, string type)
    {
        text.Append("# HELP ").Append(name).Append(' ');
        foreach (var c in help)
        {
            _ = c switch
            {
                '\\' => text.Append(@"\\"),
                '\n' => text.Append(@"\n"),
                _ => text.Append(c),
            };
        }

        text.Append('\n').Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
    }

    private static void WriteHistogram(StringBuilder text, string name, MetricSeries series, double[] upperBounds)
    {
        var bucketCount = upperBounds.Length + 1;
        Span<long> counts = bucketCount <= 64 ? stackalloc long[bucketCount] : new long[bucketCount];
        series.CopyBucketCounts(counts);
        var labels = series.Tags.Labels;
        long cumulative = 0;
        for (var i = 0; i < upperBounds.Length; i++)
        {
            cumulative += counts[i];
            WriteSample(text, name, "_bucket", labels, upperBounds[i], cumulative);
        }

        cumulative += counts[^1];
        WriteSample(text, name, "_bucket", labels, double.PositiveInfinity, cumulative);
        WriteSample(text, name, "_sum", labels, null, series.Value);
        // The count is the +Inf bucket by construction, so a scrape racing a recording stays consistent.
        WriteSample(text, name, "_count", labels, null, cumulative);
    }

    private static void WriteSample(StringBuilder text, string name, string suffix, string labels, double? le, double value)
    {
        text.Append(name).Append(suffix);
        if (labels.Length > 0 || le is not null)
        {
            text.Append('{').Append(labels);
            if (le is { } bound)
            {
                text.Append(labels.Length > 0 ? ",le=\"" : "le=\"");
                AppendNumber(text, bound);
                text.Append('"');
            }

            text.Append('}');
        }

        text.Append(' ');
        AppendNumber(text, value);
        text.Append('\n');
    }

    private static void WriteDropped(StringBuilder text, IReadOnlyList<InstrumentAggregator> aggregators)
    {
        var droppedByMetric = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var aggregator in aggregators)
        {
            if (aggregator.Dropped > 0)
            {
                droppedByMetric[aggregator.Name] = droppedByMetric.GetValueOrDefault(aggregator.Name) + aggregator.Dropped;
            }
        }

        if (droppedByMetric.Count == 0)
        {
            return;
        }

        WriteHeader(text, DroppedMetricName, "Measurements dropped because their metric reached its label-set limit.", "counter");
        var label = new StringBuilder();
        foreach (var (metric, dropped) in droppedByMetric)
        {
            label.Clear().Append("metric=\"");
            AppendEscapedLabelValue(label, metric);
            WriteSample(text, DroppedMetricName, string.Empty, label.Append('"').ToString(), null, dropped);
        }
    }

    private static string HelpOf(InstrumentAggregator aggregator) =>
        string.IsNullOrWhiteSpace(aggregator.Instrument.Description)
            ? aggregator.Instrument.Name + " from meter " + aggregator.Instrument.Meter.Name
            : aggregator.Instrument.Description;

    /// <summary>The exposition type word of a metric type.</summary>
    public static string TypeWord(MetricType type) => type switch
    {
        MetricType.Counter or MetricType.ObservedCounter => "counter",
        MetricType.Histogram => "histogram",
        _ => "gauge",
    };
}
