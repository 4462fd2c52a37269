using ReadHistory.Core.Caching;
using ReadHistory.Core.Filters;
using Xunit;

namespace ReadHistory.Core.Tests.Caching;

/// <summary>The table's side of warm start: the hottest-first ranking, the no-eviction install, layout adoption.</summary>
public sealed class FilterTableWarmStartTests
{
    [Fact]
    public void Ranking_puts_referenced_users_first_most_recent_first_and_leaves_out_capped_markers()
    {
        var cache = TestTables.New(budgetBytes: 1 << 20);
        for (ulong u = 1; u <= 6; u++)
        {
            cache.Install(u, UserFilter.Create(10, BloomFilterOptions.Default));
        }

        cache.InstallCapped(7);
        foreach (var entry in cache.RankHottestFirst())
        {
            entry.ClearReference();
        }

        cache.TryGet(2, out _);
        cache.TryGet(5, out _);

        var ranked = cache.RankHottestFirst().Select(e => e.UserId).ToArray();

        // CLOCK's order over its table: the two touched users first, then the four others; the capped one left out.
        Assert.Equal(new ulong[] { 2, 5 }, ranked[..2].Order());
        Assert.Equal(new ulong[] { 1, 3, 4, 6 }, ranked[2..].Order());
    }

    [Fact]
    public void A_warm_install_never_evicts_and_never_replaces_a_held_user()
    {
        var filter = UserFilter.Create(10, BloomFilterOptions.Default);
        var cache = TestTables.New(budgetBytes: TestTables.New().IndexBytes + (2 * filter.MemoryBytes));
        Assert.Equal(WarmStartInstallOutcome.Installed, cache.TryInstallWarm(1, filter));
        Assert.Equal(WarmStartInstallOutcome.Skipped, cache.TryInstallWarm(1, UserFilter.Create(10, BloomFilterOptions.Default)));
        Assert.Equal(WarmStartInstallOutcome.Installed, cache.TryInstallWarm(2, UserFilter.Create(10, BloomFilterOptions.Default)));

        var outcome = cache.TryInstallWarm(3, UserFilter.Create(10, BloomFilterOptions.Default));

        Assert.Equal(WarmStartInstallOutcome.BudgetFull, outcome);
        Assert.Equal(2, cache.Users);
        Assert.Equal(0, cache.Evictions);
        Assert.True(cache.TryGet(1, out var held) && held.Holds(filter));
    }

    [Fact]
    public void An_empty_cache_adopts_a_layout_and_holds_that_many_users_without_growing_its_index()
    {
        const int Users = 5000;
        var cache = TestTables.New(budgetBytes: 64 << 20);
        var salt = cache.LayoutSalt ^ 0x5EED;

        Assert.True(cache.TryAdoptLayout(salt, Users));

        Assert.Equal(salt, cache.LayoutSalt);
        Assert.Equal(cache.IndexBytes, cache.Bytes);
        var index = cache.IndexBytes;
        Assert.True(index >= 24 + (8L * Users / FilterTable.MaxLoad), $"an index of {index} bytes for {Users} users");
        for (ulong u = 1; u <= Users; u++)
        {
            Assert.Equal(WarmStartInstallOutcome.Installed, cache.TryInstallWarm(u, UserFilter.Create(10, BloomFilterOptions.Default)));
        }

        Assert.Equal(index, cache.IndexBytes);
        Assert.All(Enumerable.Range(1, Users), u => Assert.True(cache.TryGet((ulong)u, out _), $"user {u} not found"));
    }

    [Fact]
    public void A_cache_that_holds_or_held_anyone_or_lacks_the_room_keeps_its_own_layout()
    {
        var holding = TestTables.New();
        holding.Install(1, UserFilter.Create(10, BloomFilterOptions.Default));
        var held = TestTables.New();
        held.Install(1, UserFilter.Create(10, BloomFilterOptions.Default));
        held.Remove(1);
        var small = TestTables.New(budgetBytes: 4096);

        foreach (var cache in new[] { holding, held, small })
        {
            var (salt, bytes) = (cache.LayoutSalt, cache.Bytes);

            Assert.False(cache.TryAdoptLayout(salt ^ 1, users: 1000));

            Assert.Equal(salt, cache.LayoutSalt);
            Assert.Equal(bytes, cache.Bytes);
        }
    }
}
