using ReadHistory.Core.Caching;
using ReadHistory.Core.Filters;
using Xunit;

namespace ReadHistory.Core.Tests.Caching;

public sealed class FilterTableTests
{
    private static UserFilter SmallFilter() => UserFilter.Create(100, BloomFilterOptions.Default);

    /// <summary>What one small one-layer user is charged: its bare array (bits, two header words, array header).</summary>
    private static long OneUser()
    {
        var cache = TestTables.New();
        cache.Install(1, SmallFilter());
        return cache.Bytes - cache.IndexBytes;
    }

    [Fact]
    public void A_one_layer_filter_is_held_as_its_bare_array_and_charged_its_bits_plus_forty_bytes()
    {
        var cache = TestTables.New();
        var filter = SmallFilter();
        var empty = cache.Bytes;

        cache.Install(7, filter);

        Assert.True(cache.TryGet(7, out var entry));
        Assert.True(entry.Holds(filter));
        Assert.Equal(7UL, entry.UserId);
        Assert.Equal(filter.BitBytes + 40, cache.Bytes - empty); // 24 array header + 16 header words
        Assert.Equal(empty, cache.IndexBytes);
        Assert.Equal(1, cache.Users);
    }

    [Fact]
    public void Installing_past_the_budget_evicts_whole_users_and_stays_within_it()
    {
        var one = OneUser();
        var index = TestTables.New().IndexBytes;
        var cache = TestTables.New(budgetBytes: index + (3 * one) + 10);

        for (ulong user = 1; user <= 10; user++)
        {
            cache.Install(user, SmallFilter());
            Assert.True(cache.Bytes <= cache.BudgetBytes);
        }

        Assert.Equal(3, cache.Users);
        Assert.Equal(7, cache.Evictions);
    }

    [Fact]
    public void A_user_touched_since_the_clock_hand_passed_survives_an_untouched_one()
    {
        var one = OneUser();
        var cache = TestTables.New(budgetBytes: cache0() + (3 * one) + 10);
        cache.Install(1, SmallFilter());
        cache.Install(2, SmallFilter());
        cache.Install(3, SmallFilter());
        cache.Install(4, SmallFilter()); // the hand clears the bits of 1, 2, 3 and evicts one of them
        var survivors = new ulong[] { 1, 2, 3 }.Where(u => cache.TryGet(u, out _)).ToArray();
        Assert.Equal(2, survivors.Length);
        // The lookups above set both survivors' bits again: clear them, then touch only the first (4 keeps its bit).
        foreach (var entry in cache.RankHottestFirst().Where(e => survivors.Contains(e.UserId)))
        {
            entry.ClearReference();
        }

        Assert.True(cache.TryGet(survivors[0], out _));

        cache.Install(5, SmallFilter()); // the only user with a clear bit is the untouched survivor: it goes

        Assert.True(cache.TryGet(survivors[0], out _));
        Assert.False(cache.TryGet(survivors[1], out _));
        Assert.Equal(3, cache.Users);

        static long cache0() => TestTables.New().IndexBytes;
    }

    [Fact]
    public void A_filter_larger_than_the_budget_is_held_as_a_capped_marker()
    {
        var cache = TestTables.New(budgetBytes: 1024);
        var empty = cache.Bytes;

        var installed = cache.Install(9, UserFilter.Create(100_000, BloomFilterOptions.Default));

        Assert.False(installed);
        Assert.True(cache.TryGet(9, out var entry));
        Assert.True(entry.IsCapped);
        Assert.Equal(1, cache.CappedUsers);
        Assert.Equal(FilterTable.CappedEntryBytes, cache.Bytes - empty);
    }

    [Fact]
    public void A_filter_that_fills_its_layer_grows_and_is_recharged_and_others_are_evicted_to_make_room()
    {
        var one = OneUser();
        var grown = SmallFilter();
        for (ulong id = 1; id <= 500; id++)
        {
            grown.Add(0, id);
        }

        // Room for the grown filter and three and a half small ones: its growth must push one small one out.
        var index = TestTables.New().IndexBytes;
        var cache = TestTables.New(budgetBytes: index + HeldUser.ObjectBytes + grown.MemoryBytes + (3 * one) + (one / 2));
        for (ulong user = 1; user <= 5; user++)
        {
            cache.Install(user, SmallFilter());
        }

        Assert.True(cache.TryGet(5, out var grower));
        for (ulong id = 1; id <= 500; id++)
        {
            cache.Add(grower, 0, id);
        }

        Assert.True(grower.Removed, $"users {cache.Users}, bytes {cache.Bytes}, budget {cache.BudgetBytes}, evictions {cache.Evictions}"); // the bare array was replaced by a filter object that can grow
        Assert.True(cache.TryGet(5, out var still));
        Assert.True(still.Filter!.LayerCount > 1, $"layers {still.Filter.LayerCount} count {still.Filter.Count} capacity {still.Filter.Capacity} capped {still.Filter.IsCapped} removed {still.Removed} capped-entry {still.IsCapped}");
        Assert.True(cache.Bytes <= cache.BudgetBytes);
        Assert.True(cache.Evictions > 0);
        Assert.Equal(cache.IndexBytes + HeldUser.ObjectBytes + still.Filter.MemoryBytes + ((cache.Users - 1) * one), cache.Bytes);
        for (ulong id = 1; id <= 500; id++)
        {
            Assert.True(still.Filter.MightContain(0, id)); // nothing added before or after the growth is lost
        }
    }

    [Fact]
    public void A_filter_that_grows_past_its_cap_becomes_a_capped_marker()
    {
        var options = new BloomFilterOptions { MaxBytes = 4 * 64, MinimumCapacity = 8 };
        var cache = TestTables.New(filter: options);
        var empty = cache.Bytes;
        cache.Install(3, UserFilter.Create(0, options));
        Assert.True(cache.TryGet(3, out var entry));

        for (ulong id = 1; id <= 5_000; id++)
        {
            cache.Add(entry, 0, id);
            cache.TryGet(3, out entry);
        }

        Assert.True(cache.TryGet(3, out var after));
        Assert.True(after.IsCapped);
        Assert.Equal(FilterTable.CappedEntryBytes, cache.Bytes - empty);
    }

    [Fact]
    public void Removing_a_user_uncharges_it()
    {
        var cache = TestTables.New();
        var empty = cache.Bytes;
        cache.Install(1, SmallFilter());

        Assert.True(cache.Remove(1));

        Assert.Equal(empty, cache.Bytes);
        Assert.Equal(0, cache.Users);
        Assert.False(cache.Remove(1));
    }

    [Fact]
    public void Thousands_of_users_are_found_after_the_index_grows_and_after_removals_leave_tombstones()
    {
        var cache = TestTables.New(budgetBytes: 1L << 30);
        for (ulong user = 1; user <= 5_000; user++)
        {
            cache.Install(user * 7919, UserFilter.Create(1, BloomFilterOptions.Default));
        }

        for (ulong user = 1; user <= 5_000; user += 2)
        {
            Assert.True(cache.Remove(user * 7919));
        }

        for (ulong user = 1; user <= 5_000; user++)
        {
            Assert.Equal(user % 2 == 0, cache.TryGet(user * 7919, out var entry));
            Assert.True(user % 2 == 1 || entry.UserId == user * 7919);
        }

        Assert.Equal(2_500, cache.Users);
        Assert.True(cache.IndexBytes <= 24 + (8 * 8_192)); // at most 8,192 slots (sized for the 5,000 once held)
    }

    [Fact]
    public void Many_threads_installing_and_removing_keep_the_byte_count_exact()
    {
        var one = OneUser();
        var cache = TestTables.New(budgetBytes: 20 * one);

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
        Assert.Equal(cache.IndexBytes + (cache.Users * one), cache.Bytes);
    }
}
