using Prometheus;
using ReadHistory.Server.Api;
using ReadHistory.Server.Cache;
using Xunit;
using ReadHistory.TestSupport.Server;
using static ReadHistory.TestSupport.Server.CacheTestKit;

namespace ReadHistory.Server.Tests.Cache;

public sealed class CacheMetricsTests
{
    [Fact]
    public async Task Lookups_rebuilds_and_pool_gauges_are_published_with_the_pool_label()
    {
        var registry = Metrics.NewCustomRegistry();
        var db = new InMemoryHistorySource();
        db.Seed(1, 0, 5);
        await using var node = NewNode(db, ShippedDefaults.Cache(static o => (o.Pool, o.BudgetBytes) = ("metrics", 1 << 20)).ToCacheOptions(), registry);

        await CheckAsync(node, 1, 0, 5);
        await WaitForRebuildsAsync(node);
        await CheckAsync(node, 1, 0, 5);
        var lines = await Exposition.ScrapeLinesAsync(registry);

        Assert.Contains("readhistory_cache_lookups_total{pool=\"metrics\",result=\"miss\"} 1", lines);
        Assert.Contains("readhistory_cache_lookups_total{pool=\"metrics\",result=\"hit\"} 1", lines);
        Assert.Contains("readhistory_cache_rebuilds_total{outcome=\"installed\",pool=\"metrics\"} 1", lines);
        Assert.Contains("readhistory_cache_point_queries_total{pool=\"metrics\"} 1", lines);
        Assert.Contains("readhistory_cache_users{pool=\"metrics\"} 1", lines);
        Assert.Contains(FormattableString.Invariant($"readhistory_cache_bytes{{pool=\"metrics\"}} {node.Filters.Bytes}"), lines);
        Assert.Contains("readhistory_cache_budget_bytes{pool=\"metrics\"} 1048576", lines);
        Assert.Contains("readhistory_cache_rebuild_duration_seconds_count{pool=\"metrics\"} 1", lines);
        Assert.Contains(lines, l => l.StartsWith("readhistory_cache_evictions_total{pool=\"metrics\"} ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("readhistory_cache_buffered_changes{pool=\"metrics\"} ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("readhistory_cache_false_positive_rate_estimate{pool=\"metrics\"} ", StringComparison.Ordinal));
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

        var stats = node.Stats().ToWire(); // as the internal Stats call sends it

        Assert.Equal("test", stats.Pool);
        Assert.Equal(1UL, stats.Users);
        Assert.Equal((ulong)node.Filters.Bytes, stats.Bytes);
        Assert.Equal(1UL << 20, stats.BudgetBytes);
        Assert.Equal(1UL, stats.Hits);
        Assert.Equal(1UL, stats.Misses);
        Assert.Equal(0U, stats.RebuildsInFlight);
        Assert.InRange(stats.FalsePositiveRateEstimate, 0, 0.01);
    }
}
