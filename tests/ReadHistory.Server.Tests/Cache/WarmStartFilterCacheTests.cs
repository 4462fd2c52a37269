using ReadHistory.Core.Filters;
using ReadHistory.Server.Cache;
using Xunit;

namespace ReadHistory.Server.Tests.Cache;

/// <summary>The pieces of warm start without I/O: the hottest-first ranking, the no-eviction install, the part assembler.</summary>
public sealed class WarmStartFilterCacheTests
{
    [Fact]
    public void Ranking_puts_referenced_users_first_most_recent_first_and_leaves_out_capped_markers()
    {
        var cache = new FilterCache(CacheTestKit.Options(budgetBytes: 1 << 20));
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
        var cache = new FilterCache(CacheTestKit.Options(budgetBytes: new FilterCache(CacheTestKit.Options()).IndexBytes + (2 * filter.MemoryBytes)));
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
        var cache = new FilterCache(CacheTestKit.Options(budgetBytes: 64 << 20));
        var salt = cache.LayoutSalt ^ 0x5EED;

        Assert.True(cache.TryAdoptLayout(salt, Users));

        Assert.Equal(salt, cache.LayoutSalt);
        Assert.Equal(cache.IndexBytes, cache.Bytes);
        var index = cache.IndexBytes;
        Assert.True(index >= 24 + (8L * Users / FilterCache.MaxLoad), $"an index of {index} bytes for {Users} users");
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
        var holding = new FilterCache(CacheTestKit.Options());
        holding.Install(1, UserFilter.Create(10, BloomFilterOptions.Default));
        var held = new FilterCache(CacheTestKit.Options());
        held.Install(1, UserFilter.Create(10, BloomFilterOptions.Default));
        held.Remove(1);
        var small = new FilterCache(CacheTestKit.Options(budgetBytes: 4096));

        foreach (var cache in new[] { holding, held, small })
        {
            var (salt, bytes) = (cache.LayoutSalt, cache.Bytes);

            Assert.False(cache.TryAdoptLayout(salt ^ 1, users: 1000));

            Assert.Equal(salt, cache.LayoutSalt);
            Assert.Equal(bytes, cache.Bytes);
        }
    }

    [Theory]
    [InlineData(10UL, 5UL, 10, "expected the first part (offset 0)")]
    [InlineData(0UL, 0UL, 0, "declares 0 bytes")]
    [InlineData(1UL << 40, 0UL, 10, "declares 1099511627776 bytes; expected 1 to 1048576")]
    [InlineData(10UL, 0UL, 11, "a part of 11 bytes exceeds its filter's declared 10 bytes")]
    public void The_assembler_rejects_a_hostile_first_part(ulong total, ulong offset, int length, string expected)
    {
        using var assembler = new WarmStartAssembler(maxFilterBytes: 1 << 20);

        var error = Assert.Throws<InvalidDataException>(() => assembler.TryAccept(Part(5, total, offset, length), out _, out _));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_assembler_rejects_a_part_of_another_user_in_the_middle_of_a_filter()
    {
        using var assembler = new WarmStartAssembler(maxFilterBytes: 1 << 20);
        Assert.False(assembler.TryAccept(Part(1, total: 10, offset: 0, length: 4), out _, out _));

        var error = Assert.Throws<InvalidDataException>(() => assembler.TryAccept(Part(2, total: 10, offset: 0, length: 4), out _, out _));

        Assert.Contains("expected user 1's filter at offset 4 of 10, got user 2 at offset 0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_assembler_joins_parts_back_to_back()
    {
        using var assembler = new WarmStartAssembler(maxFilterBytes: 1 << 20);
        var first = Part(9, total: 6, offset: 0, length: 4, fill: 1);
        var second = Part(9, total: 6, offset: 4, length: 2, fill: 2);

        Assert.False(assembler.TryAccept(first, out _, out _));
        Assert.True(assembler.TryAccept(second, out var user, out var snapshot));

        Assert.Equal(9UL, user);
        Assert.Equal(new byte[] { 1, 1, 1, 1, 2, 2 }, snapshot.ToArray());
        assembler.Release();
        Assert.False(assembler.HasPending);
    }

    private static SnapshotPart Part(ulong user, ulong total, ulong offset, int length, byte fill = 0) =>
        new(user, total, offset, Enumerable.Repeat(fill, length).ToArray());
}
