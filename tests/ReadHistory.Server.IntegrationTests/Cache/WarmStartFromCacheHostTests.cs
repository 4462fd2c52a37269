using Microsoft.Extensions.DependencyInjection;
using ReadHistory.Server.Cache;
using ReadHistory.Server.IntegrationTests.Hosting;
using ReadHistory.TestSupport;
using Xunit;
using ReadHistory.TestSupport.Server;

namespace ReadHistory.Server.IntegrationTests.Cache;

/// <summary>Warm start from a real cache-role host (its CacheNode.Snapshot binding) on MariaDB.</summary>
[Collection(MariaDbFixture.Collection)]
public sealed class WarmStartFromCacheHostTests(MariaDbFixture mariaDb)
{
    [Fact]
    public async Task A_node_warm_starts_from_a_running_cache_host_and_answers_like_it()
    {
        await using var host = await TestHost.StartReadyAsync(TestHost.Settings("cache", mariaDb.Server.ConnectionString(), "warm" + Guid.NewGuid().ToString("N")[..8]));
        var peer = host.App.Services.GetRequiredService<CacheNodeHost>().Current!;
        for (ulong u = 1; u <= 20; u++)
        {
            await CacheTestKit.MarkReadAsync(peer, u, 1, Enumerable.Range(0, 30).Select(i => (u * 100) + (ulong)i).ToArray());
            await CacheTestKit.CheckAsync(peer, u, 1, 1);
        }

        await Poll.UntilAsync(() => peer.RebuildsInFlight == 0 && peer.Filters.Users == 20, "the host to hold 20 users");
        var receiverSource = new InMemoryHistorySource();
        await using var receiver = CacheTestKit.NewNode(receiverSource, CacheTestKit.Options(budgetBytes: 16 << 20));
        using var starter = CacheTestKit.NewStarter(receiver, chunkBytes: 1024);

        var result = await starter.WarmStartAsync(host.Internal, "default", CancellationToken.None).DefaultTimeout();

        Assert.Equal(WarmStartOutcome.Completed, result.Outcome);
        Assert.Equal(20, result.Users);
        Assert.True(result.Cursor.IsEmpty, "a host without Redis tails no stream, so its snapshot carries an empty cursor");
        for (ulong u = 1; u <= 20; u++)
        {
            var ids = Enumerable.Range(0, 60).Select(i => (u * 100) + (ulong)i).ToArray();
            var (expected, _) = await CacheTestKit.CheckAsync(peer, u, 1, ids);
            var (actual, answer) = await CacheTestKit.CheckAsync(receiver, u, 1, ids);
            Assert.Equal(CheckSource.Memory, answer.Source);
            Assert.Equal(expected, actual);
        }

        Assert.Equal(0, receiverSource.PointQueries);
    }

    [Fact]
    public async Task Asking_a_host_for_a_pool_it_does_not_hold_fails_cleanly()
    {
        await using var host = await TestHost.StartReadyAsync(TestHost.Settings("cache", mariaDb.Server.ConnectionString(), "warm" + Guid.NewGuid().ToString("N")[..8]));
        await using var receiver = CacheTestKit.NewNode(new InMemoryHistorySource(), CacheTestKit.Options());
        using var starter = CacheTestKit.NewStarter(receiver);

        var result = await starter.WarmStartAsync(host.Internal, "push", CancellationToken.None).DefaultTimeout();

        Assert.Equal(WarmStartOutcome.Failed, result.Outcome);
        Assert.Contains("NotFound", result.Error, StringComparison.Ordinal);
    }
}
