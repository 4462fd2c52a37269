using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using ReadHistory.Server.Cache;
using Xunit;
using static ReadHistory.Server.Tests.Cache.CacheTestKit;

namespace ReadHistory.Server.Tests.Cache;

public sealed class CacheMetricsTests
{
    [Fact]
    public async Task Lookups_rebuilds_and_pool_gauges_are_published_with_the_pool_label()
    {
        var seen = new ConcurrentDictionary<string, double>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = static (instrument, l) =>
        {
            if (instrument.Meter.Name == CacheMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(seen, instrument, value, tags));
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(seen, instrument, value, tags));
        listener.Start();
        var db = new InMemoryHistorySource();
        db.Seed(1, 0, 5);
        await using var node = NewNode(db, new CacheOptions { Pool = "metrics", BudgetBytes = 1 << 20 }); // a pool of its own: other tests run meanwhile

        await CheckAsync(node, 1, 0, 5);
        await WaitForRebuildsAsync(node);
        await CheckAsync(node, 1, 0, 5);
        listener.RecordObservableInstruments();

        Assert.Equal(1, seen.GetValueOrDefault("readhistory_cache_lookups_total{pool=metrics,result=miss}"));
        Assert.Equal(1, seen.GetValueOrDefault("readhistory_cache_lookups_total{pool=metrics,result=hit}"));
        Assert.Equal(1, seen.GetValueOrDefault("readhistory_cache_rebuilds_total{outcome=installed,pool=metrics}"));
        Assert.Equal(1, seen.GetValueOrDefault("readhistory_cache_point_queries_total{pool=metrics}"));
        Assert.Equal(1, seen.GetValueOrDefault("readhistory_cache_users{pool=metrics}"));
        Assert.Equal(node.Filters.Bytes, seen.GetValueOrDefault("readhistory_cache_bytes{pool=metrics}"));
        Assert.Equal(1 << 20, seen.GetValueOrDefault("readhistory_cache_budget_bytes{pool=metrics}"));
        Assert.True(seen.ContainsKey("readhistory_cache_rebuild_duration_seconds{pool=metrics}"));
        Assert.True(seen.ContainsKey("readhistory_cache_evictions_total{pool=metrics}"));
        Assert.True(seen.ContainsKey("readhistory_cache_buffered_changes{pool=metrics}"));
        Assert.True(seen.ContainsKey("readhistory_cache_false_positive_rate_estimate{pool=metrics}"));
    }

    [Fact]
    public async Task Stats_reports_the_pool_figures()
    {
        var db = new InMemoryHistorySource();
        db.Seed(1, 0, 5);
        await using var node = NewNode(db);
        await CheckAsync(node, 1, 0, 5);
        await WaitForRebuildsAsync(node);
        await CheckAsync(node, 1, 0, 5);

        var stats = node.Stats();

        Assert.Equal("test", stats.Pool);
        Assert.Equal(1UL, stats.Users);
        Assert.Equal((ulong)node.Filters.Bytes, stats.Bytes);
        Assert.Equal(1UL << 20, stats.BudgetBytes);
        Assert.Equal(1UL, stats.Hits);
        Assert.Equal(1UL, stats.Misses);
        Assert.Equal(0U, stats.RebuildsInFlight);
        Assert.InRange(stats.FalsePositiveRateEstimate, 0, 0.01);
    }

    private static void Record(ConcurrentDictionary<string, double> seen, Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var labels = new List<string>();
        foreach (var tag in tags)
        {
            labels.Add($"{tag.Key}={tag.Value}");
        }

        labels.Sort(StringComparer.Ordinal);
        var key = $"{instrument.Name}{{{string.Join(',', labels)}}}";
        if (instrument.GetType().Name.StartsWith("Observable", StringComparison.Ordinal))
        {
            seen[key] = value;
        }
        else
        {
            seen.AddOrUpdate(key, value, (_, old) => old + value);
        }
    }
}
