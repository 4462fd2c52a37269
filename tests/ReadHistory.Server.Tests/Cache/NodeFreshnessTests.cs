using Microsoft.Extensions.Logging.Abstractions;
using ReadHistory.Server.Cache;
using ReadHistory.TestSupport;
using ReadHistory.TestSupport.Server;
using Xunit;
using static ReadHistory.TestSupport.Server.CacheTestKit;

namespace ReadHistory.Server.Tests.Cache;

/// <summary>A node's staleness: now minus the newest stream stamp applied, against Cache:MaxStaleness.</summary>
public sealed class NodeFreshnessTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(1);

    [Fact]
    public void A_node_that_has_applied_no_stamp_is_stale_with_unknown_staleness()
    {
        var freshness = new NodeFreshness(new ManualTimeProvider(), Bound);

        Assert.True(freshness.IsStale);
        Assert.Equal(double.PositiveInfinity, freshness.StalenessSeconds);
        Assert.Null(freshness.NewestStampMs);
    }

    [Fact]
    public void Staleness_grows_while_no_stamp_arrives_and_recovers_when_heartbeats_resume()
    {
        var time = new ManualTimeProvider();
        var freshness = new NodeFreshness(time, Bound);
        freshness.Observe(NowMs(time));
        var fresh = freshness.IsStale;

        time.Advance(TimeSpan.FromMilliseconds(1000));
        var atBound = (freshness.IsStale, freshness.StalenessSeconds);
        time.Advance(TimeSpan.FromMilliseconds(1));
        var pastBound = (freshness.IsStale, freshness.StalenessSeconds);
        time.Advance(TimeSpan.FromSeconds(4));
        var later = freshness.StalenessSeconds;
        freshness.Observe(NowMs(time) - 100);

        Assert.False(fresh);
        Assert.Equal((false, 1.0), atBound);
        Assert.Equal((true, 1.001), pastBound);
        Assert.Equal(5.001, later);
        Assert.False(freshness.IsStale);
        Assert.Equal(0.1, freshness.StalenessSeconds);
    }

    [Fact]
    public void An_older_stamp_than_the_newest_changes_nothing()
    {
        var time = new ManualTimeProvider();
        var freshness = new NodeFreshness(time, Bound);
        freshness.Observe(NowMs(time));

        freshness.Observe(NowMs(time) - 5000);
        time.Advance(TimeSpan.FromMilliseconds(500));

        Assert.Equal(NowMs(time) - 500, freshness.NewestStampMs);
        Assert.False(freshness.IsStale);
    }

    [Fact]
    public void A_node_without_a_change_stream_is_never_stale()
    {
        NodeFreshness.AlwaysFresh.Observe(1);

        Assert.False(NodeFreshness.AlwaysFresh.IsStale);
        Assert.Equal(0, NodeFreshness.AlwaysFresh.StalenessSeconds);
    }

    [Fact]
    public async Task A_hit_on_a_stale_node_says_memory_stale_and_on_a_fresh_node_memory()
    {
        var time = new ManualTimeProvider();
        var db = new InMemoryHistorySource();
        db.Seed(1, 2, 100);
        var freshness = new NodeFreshness(time, Bound);
        await using var node = new ReadThroughCache(Options(), db, TimeProvider.System, NullLogger.Instance) { Freshness = freshness };
        await CheckAsync(node, 1, 2, 100);
        await WaitForRebuildsAsync(node);

        var (staleBitmap, stale) = await CheckAsync(node, 1, 2, 100, 101);
        freshness.Observe(NowMs(time));
        var (_, fresh) = await CheckAsync(node, 1, 2, 100, 101);
        var (_, miss) = await CheckAsync(node, 7, 2, 100);

        Assert.Equal(new CheckResult(1, CheckSource.MemoryStale), stale);
        Assert.True(IsSet(staleBitmap, 0));
        Assert.Equal(new CheckResult(1, CheckSource.Memory), fresh);
        Assert.Equal(CheckSource.Database, miss.Source);
    }

    private static long NowMs(TimeProvider time) => time.GetUtcNow().ToUnixTimeMilliseconds();
}
