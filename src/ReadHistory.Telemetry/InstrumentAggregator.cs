using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace ReadHistory.Telemetry;

/// <summary>
/// The series of one instrument, keyed by label set, with a cap on how many label sets it keeps.
/// Recording finds an existing series without locks or allocation; only a new label set allocates.
/// </summary>
internal sealed class InstrumentAggregator
{
    private readonly ConcurrentDictionary<TagSet, MetricSeries> _series = new(TagSetComparer.Instance);
    private readonly ConcurrentDictionary<TagSet, MetricSeries>.AlternateLookup<ReadOnlySpan<KeyValuePair<string, object?>>> _lookup;
    private readonly int _maxSeries;
    private readonly ILogger _logger;
    private int _seriesCount;
    private long _dropped;
    private int _limitLogged;

    /// <summary>Creates the aggregator of an instrument exported under <paramref name="name"/>.</summary>
    public InstrumentAggregator(Instrument instrument, string name, MetricType type, double[] upperBounds, int maxSeries, ILogger logger)
    {
        Instrument = instrument;
        Name = name;
        Type = type;
        UpperBounds = upperBounds;
        _maxSeries = maxSeries;
        _logger = logger;
        _lookup = _series.GetAlternateLookup<ReadOnlySpan<KeyValuePair<string, object?>>>();
    }

    /// <summary>The instrument measured.</summary>
    public Instrument Instrument { get; }

    /// <summary>The exported metric name.</summary>
    public string Name { get; }

    /// <summary>How the instrument is exported.</summary>
    public MetricType Type { get; }

    /// <summary>Finite histogram bucket upper bounds, ascending; empty for other types.</summary>
    public double[] UpperBounds { get; }

    /// <summary>Whether the series are observed afresh at each scrape (observable instruments).</summary>
    public bool IsObservable => Instrument.IsObservable;

    /// <summary>Measurements dropped because the label-set cap was reached.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>The series kept now, in no particular order.</summary>
    public ICollection<MetricSeries> Series => _series.Values;

    /// <summary>Applies one measurement to its series.</summary>
    public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (!_lookup.TryGetValue(tags, out var series))
        {
            series = AddSeries(tags);
            if (series is null)
            {
                return;
            }
        }

        switch (Type)
        {
            case MetricType.Counter:
            case MetricType.SummedGauge:
                series.Add(value);
                break;
            case MetricType.Histogram:
                if (!double.IsNaN(value))
                {
                    series.Observe(value, UpperBounds);
                }

                break;
            default:
                series.Set(value);
                break;
        }
    }

    /// <summary>Forgets every series; observable instruments call this before each scrape so vanished label sets go away.</summary>
    public void Clear()
    {
        _series.Clear();
        Volatile.Write(ref _seriesCount, 0);
    }

    private MetricSeries? AddSeries(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (Interlocked.Increment(ref _seriesCount) > _maxSeries)
        {
            Interlocked.Decrement(ref _seriesCount);
            Interlocked.Increment(ref _dropped);
            if (Interlocked.Exchange(ref _limitLogged, 1) == 0)
            {
                Log.SeriesLimitReached(_logger, Name, _maxSeries);
            }

            return null;
        }

        var created = new MetricSeries(TagSet.Create(tags), Type == MetricType.Histogram ? UpperBounds.Length + 1 : 0);
        var kept = _series.GetOrAdd(created.Tags, created);
        if (!ReferenceEquals(kept, created))
        {
            // Another thread added the same label set first.
            Interlocked.Decrement(ref _seriesCount);
        }

        return kept;
    }
}
