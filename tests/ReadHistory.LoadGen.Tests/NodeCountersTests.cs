using ReadHistory.LoadGen.Measure;
using Xunit;

namespace ReadHistory.LoadGen.Tests;

public sealed class NodeCountersTests
{
    private const string Exposition = """
        # HELP readhistory_cache_rebuild_rows_total Rows rebuild scans read
        # TYPE readhistory_cache_rebuild_rows_total counter
        readhistory_cache_rebuild_rows_total{pool="default"} 1000
        readhistory_cache_rebuild_rows_total{pool="feed"} 24
        readhistory_cache_point_queries_total{pool="default"} 7
        readhistory_cache_lookups_total{pool="default",result="hit"} 90
        readhistory_cache_lookups_total{pool="default",result="miss"} 10
        readhistory_cache_t2_loads_total{pool="default",result="hit"} 3
        readhistory_cache_t2_loads_total_created{pool="default",result="hit"} 1733600000
        readhistory_cache_bytes{pool="default"} 123456
        """;

    [Fact]
    public void Families_are_summed_over_pools_and_kept_apart_by_result()
    {
        var counters = NodeCounters.Parse(Exposition);

        Assert.Equal(1024, counters["readhistory_cache_rebuild_rows_total"]);
        Assert.Equal(7, counters["readhistory_cache_point_queries_total"]);
        Assert.Equal(90, counters["readhistory_cache_lookups_total:hit"]);
        Assert.Equal(10, counters["readhistory_cache_lookups_total:miss"]);
        Assert.Equal(3, counters["readhistory_cache_t2_loads_total:hit"]);
        Assert.Equal(5, counters.Count);
    }

    [Fact]
    public void Rates_are_the_differences_over_the_seconds_between_two_scrapes()
    {
        var rates = NodeCounters.Rates(new() { ["a"] = 10 }, new() { ["a"] = 30, ["b"] = 4 }, seconds: 2);

        Assert.Equal(10, rates["a"]);
        Assert.Equal(2, rates["b"]);
    }
}
