using ReadHistory.Core.Filters;
using ReadHistory.Server.Cache;
using Xunit;

namespace ReadHistory.Server.Tests.Cache;

public sealed class FilterCacheTests
{
    private static UserFilter SmallFilter() => UserFilter.Create(100, BloomFilterOptions.Default);

    [Fact]
    public void An_installed_filter_is_found_and_charged_its_own_memory_bytes()
    {
        var cache = new FilterCache(CacheTestKit.Options());
        var filter = SmallFilter();

        cache.Install(7, filter);

        Assert.True(cache.TryGet(7, out var entry));
        Assert.Same(filter, entry.Filter);
        Assert.Equal(filter.MemoryBytes, cache.Bytes);
        Assert.Equal(1, cache.Users);
    }

    [Fact]
    public void Installing_past_the_budget_evicts_whole_users_and_stays_within_it()
    {
        var one = SmallFilter().MemoryBytes;
        var cache = new FilterCache(CacheTestKit.Options(budgetBytes: (3 * one) + 10));

        for (ulong user = 1; user <= 10; user++)
        {
            cache.Install(user, SmallFilter());
            Assert.True(cache.Bytes <= cache.BudgetBytes);
        }

        Assert.Equal(3, cache.Users);
        Assert.Equal(7, cache.Evictions);
    }

    [Fact]
    public void A_user_touched_since_the_clock_hand_passed_survives_an_untouched_older_one()
    {
        var one = SmallFilter().MemoryBytes;
        var cache = new FilterCache(CacheTestKit.Options(budgetBytes: (3 * one) + 10));
        cache.Install(1, SmallFilter());
        cache.Install(2, SmallFilter());
        cache.Install(3, SmallFilter());
        cache.Install(4, SmallFilter()); // the hand clears 1, 2, 3 and evicts 1

        Assert.True(cache.TryGet(2, out _));
        cache.Install(5, SmallFilter()); // 2 has its second chance; 3 goes

        Assert.False(cache.TryGet(1, out _));
        Assert.False(cache.TryGet(3, out _));
        Assert.True(cache.TryGet(2, out _));
        Assert.True(cache.TryGet(4, out _));
        Assert.True(cache.TryGet(5, out _));
    }

    [Fact]
    public void A_filter_larger_than_the_budget_is_held_as_a_capped_marker()
    {
        var cache = new FilterCache(CacheTestKit.Options(budgetBytes: 1024));

        var installed = cache.Install(9, UserFilter.Create(100_000, BloomFilterOptions.Default));

        Assert.False(installed);
        Assert.True(cache.TryGet(9, out var entry));
        Assert.True(entry.IsCapped);
        Assert.Equal(1, cache.CappedUsers);
        Assert.Equal(FilterCache.CappedEntryBytes, cache.Bytes);
    }

    [Fact]
    public void A_filter_that_grows_a_layer_is_recharged_and_others_are_evicted_to_make_room()
    {
        var one = SmallFilter().MemoryBytes;
        var grown = SmallFilter();
        for (ulong id = 1; id <= 500; id++)
        {
            grown.Add(0, id);
        }

        // Room for the grown filter and three and a half small ones: its growth must push one small one out.
        var cache = new FilterCache(CacheTestKit.Options(budgetBytes: grown.MemoryBytes + (3 * one) + (one / 2)));
        for (ulong user = 1; user <= 5; user++)
        {
            cache.Install(user, SmallFilter());
        }

        Assert.True(cache.TryGet(5, out var grower));
        for (ulong id = 1; id <= 500; id++)
        {
            cache.Add(grower, 0, id);
        }

        Assert.True(grower.Filter!.LayerCount > 1);
        Assert.True(cache.Bytes <= cache.BudgetBytes);
        Assert.True(cache.Evictions > 0);
        Assert.True(cache.TryGet(5, out var still));
        Assert.Equal(grower.Filter.MemoryBytes, still.Bytes);
    }

    [Fact]
    public void A_filter_that_grows_past_its_cap_becomes_a_capped_marker()
    {
        var options = new BloomFilterOptions { MaxBytes = 4 * 64, MinimumCapacity = 8 };
        var cache = new FilterCache(CacheTestKit.Options(filter: options));
        cache.Install(3, UserFilter.Create(0, options));
        Assert.True(cache.TryGet(3, out var entry));

        for (ulong id = 1; id <= 5_000; id++)
        {
            cache.Add(entry, 0, id);
        }

        Assert.True(cache.TryGet(3, out var after));
        Assert.True(after.IsCapped);
        Assert.Equal(FilterCache.CappedEntryBytes, cache.Bytes);
    }

    [Fact]
    public void Removing_a_user_uncharges_it()
    {
        var cache = new FilterCache(CacheTestKit.Options());
        cache.Install(1, SmallFilter());

        Assert.True(cache.Remove(1));

        Assert.Equal(0, cache.Bytes);
        Assert.Equal(0, cache.Users);
        Assert.False(cache.Remove(1));
    }

    [Fact]
    public void Many_threads_installing_and_removing_keep_the_byte_count_exact()
    {
        var one = SmallFilter().MemoryBytes;
        var cache = new FilterCache(CacheTestKit.Options(budgetBytes: 20 * one));

        Parallel.For(0, 4_000, i =>
        {
            var user = (ulong)(i % 50) + 1;
            if (i % 7 == 0)
            {
                cache.Remove(user);
            }
            else
            {
                cache.Install(user, SmallFilter());
            }
        });

        Assert.True(cache.Bytes <= cache.BudgetBytes);
        Assert.Equal(cache.Users * one, cache.Bytes);
    }
}
