using ReadHistory.Core.Caching;
using ReadHistory.Core.Filters;
using Xunit;

namespace ReadHistory.Core.Tests.Caching;

/// <summary>The eviction hook the second tier writes back from: every user the budget evicts, with its filter still whole, and nothing else.</summary>
public sealed class FilterTableEvictingTests
{
    [Fact]
    public void The_hook_sees_each_user_the_budget_evicts_with_its_bits_before_it_leaves_the_table()
    {
        var one = TestTables.New();
        one.Install(1, UserFilter.Create(100, BloomFilterOptions.Default));
        var perUser = one.Bytes - one.IndexBytes;
        var cache = TestTables.New(budgetBytes: TestTables.New().IndexBytes + (3 * perUser) + 10);
        var seen = new List<(ulong User, bool Held, bool Holds)>();
        cache.Evicting = entry => seen.Add((entry.UserId, cache.TryGet(entry.UserId, out _), Holds(entry.Filter!, entry.UserId)));

        for (ulong user = 1; user <= 6; user++)
        {
            var filter = UserFilter.Create(100, BloomFilterOptions.Default);
            filter.Add(1, user);
            cache.Install(user, filter);
        }

        Assert.Equal(cache.Evictions, seen.Count);
        Assert.Equal(3, seen.Count);
        Assert.All(seen, s => Assert.True(s.Held && s.Holds, $"user {s.User}: held {s.Held}, bits {s.Holds}"));
    }

    private static bool Holds(UserFilter filter, ulong id)
    {
        var bitmap = new byte[1];
        return filter.CheckMany(1, [id], bitmap) == 0;
    }

    [Fact]
    public void Removing_a_user_or_capping_one_is_no_eviction_for_the_hook()
    {
        var cache = TestTables.New();
        var seen = 0;
        cache.Evicting = _ => seen++;
        cache.Install(1, UserFilter.Create(100, BloomFilterOptions.Default));
        cache.Install(2, UserFilter.Create(100, BloomFilterOptions.Default));

        cache.Remove(1);
        cache.InstallCapped(2);

        Assert.Equal(0, seen);
    }
}
