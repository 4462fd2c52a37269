using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Numerics;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ReadHistory.Telemetry;

/// <summary>
/// Listens to the instruments of the chosen meters, aggregates their measurements per label set, and
/// renders them in the Prometheus text format on demand (the stand-in for prometheus-net's registry).
/// </summary>
public sealed class MetricsCollector : IDisposable
{
    /// <summary>The HTTP content type of the text exposition format 0.0.4.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private readonly ConcurrentDictionary<Instrument, InstrumentAggregator> _aggregators = new();
    private readonly Lock _publishLock = new();
    private readonly Lock _collectLock = new();
    private readonly string[] _meterPrefixes;
    private readonly int _maxSeries;
    private readonly double[] _defaultUpperBounds;
    private readonly ILogger _logger;
    private readonly MeterListener _listener;

    /// <summary>Starts listening to the meters the options name.</summary>
    public MetricsCollector(PrometheusExpositionOptions options, ILogger<MetricsCollector>? logger = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxSeriesPerInstrument);
        _meterPrefixes = [.. options.MeterPrefixes];
        _maxSeries = options.MaxSeriesPerInstrument;
        _defaultUpperBounds = NormalizeBounds(options.DefaultHistogramBoundaries);
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _listener = new MeterListener
        {
            InstrumentPublished = OnInstrumentPublished,
            MeasurementsCompleted = OnMeasurementsCompleted,
        };
        _listener.SetMeasurementEventCallback<byte>(OnMeasurement);
        _listener.SetMeasurementEventCallback<short>(OnMeasurement);
        _listener.SetMeasurementEventCallback<int>(OnMeasurement);
        _listener.SetMeasurementEventCallback<long>(OnMeasurement);
        _listener.SetMeasurementEventCallback<float>(OnMeasurement);
        _listener.SetMeasurementEventCallback<double>(OnMeasurement);
        _listener.SetMeasurementEventCallback<decimal>(OnMeasurement);
        _listener.Start();
    }

    /// <summary>Observes the observable instruments and renders every metric in the Prometheus text format.</summary>
    public string Collect()
    {
        var text = new StringBuilder(4096);
        lock (_collectLock)
        {
            var aggregators = _aggregators.Values.ToArray();
            foreach (var aggregator in aggregators)
            {
                if (aggregator.IsObservable)
                {
                    aggregator.Clear();
                }
            }

            _listener.RecordObservableInstruments();
            Array.Sort(aggregators, static (a, b) =>
            {
                var byName = string.CompareOrdinal(a.Name, b.Name);
                return byName != 0 ? byName : string.CompareOrdinal(a.Instrument.Meter.Name, b.Instrument.Meter.Name);
            });
            PrometheusTextFormatter.Write(text, aggregators);
        }

        return text.ToString();
    }

    /// <summary>Stops listening.</summary>
    public void Dispose() => _listener.Dispose();

    private static void OnMeasurement<T>(Instrument instrument, T measurement, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
        where T : struct, INumberBase<T> =>
        ((InstrumentAggregator)state!).Record(double.CreateTruncating(measurement), tags);

    private void OnInstrumentPublished(Instrument instrument, MeterListener listener)
    {
        if (!IsChosen(instrument.Meter.Name) || TypeOf(instrument) is not { } type)
        {
            return;
        }

        var name = PrometheusNames.MetricName(instrument, type);
        InstrumentAggregator aggregator;
        lock (_publishLock)
        {
            foreach (var other in _aggregators.Values)
            {
                if (other.Name == name && PrometheusTextFormatter.TypeWord(other.Type) != PrometheusTextFormatter.TypeWord(type))
                {
                    Log.MetricNameClash(_logger, instrument.Name, instrument.Meter.Name, name);
                    return;
                }
            }

            var upperBounds = type == MetricType.Histogram ? AdvisedBounds(instrument) ?? _defaultUpperBounds : [];
            aggregator = new InstrumentAggregator(instrument, name, type, upperBounds, _maxSeries, _logger);
            _aggregators[instrument] = aggregator;
        }

        listener.EnableMeasurementEvents(instrument, aggregator);
    }

    private void OnMeasurementsCompleted(Instrument instrument, object? state) => _aggregators.TryRemove(instrument, out _);

    private bool IsChosen(string meterName)
    {
        if (_meterPrefixes.Length == 0)
        {
            return true;
        }

        foreach (var prefix in _meterPrefixes)
        {
            if (meterName.StartsWith(prefix, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private static MetricType? TypeOf(Instrument instrument)
    {
        var type = instrument.GetType();
        if (!type.IsGenericType)
        {
            return null;
        }

        var definition = type.GetGenericTypeDefinition();
        return definition == typeof(Counter<>) ? MetricType.Counter
            : definition == typeof(ObservableCounter<>) ? MetricType.ObservedCounter
            : definition == typeof(UpDownCounter<>) ? MetricType.SummedGauge
            : definition == typeof(Histogram<>) ? MetricType.Histogram
            : definition == typeof(Gauge<>) || definition == typeof(ObservableGauge<>) || definition == typeof(ObservableUpDownCounter<>) ? MetricType.Gauge
            : null;
    }

    private static double[]? AdvisedBounds(Instrument instrument) => instrument switch
    {
        Instrument<double> i => AdvisedBounds(i),
        Instrument<float> i => AdvisedBounds(i),
        Instrument<long> i => AdvisedBounds(i),
        Instrument<int> i => AdvisedBounds(i),
        Instrument<short> i => AdvisedBounds(i),
        Instrument<byte> i => AdvisedBounds(i),
        Instrument<decimal> i => AdvisedBounds(i),
        _ => null,
    };

    private static double[]? AdvisedBounds<T>(Instrument<T> instrument)
        where T : struct, INumberBase<T> =>
        instrument.Advice?.HistogramBucketBoundaries is { } bounds
            ? NormalizeBounds(bounds.Select(static b => double.CreateTruncating(b)))
            : null;

    // Bucket bounds must be finite, distinct and ascending; +Inf is always added when writing.
    private static double[] NormalizeBounds(IEnumerable<double> bounds) =>
        [.. bounds.Where(double.IsFinite).Distinct().Order()];
}
