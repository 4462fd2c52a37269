using ReadHistory.Core.Caching;
using ReadHistory.Core.Filters;
using Xunit;

namespace ReadHistory.Core.Tests.Caching;

/// <summary>The pool's byte count against the runtime's own allocation counter (exact, per thread; run alone: see ExactAllocationTests).</summary>
[Collection(ExactAllocationTests.Name)]
public sealed class FilterTableMemoryTests
{
    private static readonly BloomFilterOptions OnePercent = new() { TargetFalsePositiveRate = 0.01 };

    [Fact]
    public void Each_user_and_each_index_table_is_charged_exactly_what_the_runtime_allocated_for_it()
    {
        WarmUp();
        var cache = TestTables.New(budgetBytes: 1L << 32, filter: OnePercent);
        var user = 1000UL;
        var tablesSeen = 0;
        foreach (var rows in new[] { 0, 100, 1_000, 10_000, 100_000 })
        {
            for (var n = 0; n < 40; n++)
            {
                user++;
                var before = GC.GetAllocatedBytesForCurrentThread();
                var filter = UserFilter.Create(rows, OnePercent);
                var built = GC.GetAllocatedBytesForCurrentThread() - before; // the filter object and its array
                var (charged, index) = (cache.Bytes, cache.IndexBytes);

                before = GC.GetAllocatedBytesForCurrentThread();
                cache.Install(user, filter);
                var installing = GC.GetAllocatedBytesForCurrentThread() - before; // a new index table, when it grew

                Assert.True(cache.TryGet(user, out var entry));
                before = GC.GetAllocatedBytesForCurrentThread();
                var view = entry.Filter; // a filter object alone, as the runtime sizes it
                var filterObject = GC.GetAllocatedBytesForCurrentThread() - before;
                Assert.Equal(built - filterObject, cache.Bytes - charged - (cache.IndexBytes - index));
                Assert.Equal(cache.IndexBytes == index ? 0 : cache.IndexBytes, installing);
                tablesSeen += cache.IndexBytes == index ? 0 : 1;
                GC.KeepAlive(view);
            }
        }

        Assert.True(tablesSeen >= 3); // the index grew on the way, and each growth was measured
    }

    [Fact]
    public void A_user_that_grows_is_charged_exactly_what_its_growth_allocated()
    {
        // The first growth in a process also loads types and compiles code on this thread: measure the second.
        Assert.True(GrowOnce(measure: false));
        Assert.True(GrowOnce(measure: true));
    }

    private static bool GrowOnce(bool measure)
    {
        WarmUp();
        var cache = TestTables.New(budgetBytes: 1L << 32, filter: OnePercent);
        cache.Install(5, UserFilter.Create(100, OnePercent));
        Assert.True(cache.TryGet(5, out var entry));
        ulong id = 0;
        while (cache.TryGet(5, out var now) && !now.Removed && now.Filter!.LayerCount == 1)
        {
            var (charged, before) = (cache.Bytes, GC.GetAllocatedBytesForCurrentThread());
            cache.Add(entry, 0, ++id);
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (cache.Bytes != charged)
            {
                // The add that filled the layer: a held-user object and a filter object around the same array, plus
                // the grown layer (its array of layers, its object and its bit array).
                if (measure)
                {
                    Assert.Equal(allocated, cache.Bytes - charged);
                }

                return cache.TryGet(5, out var grown) && grown.Filter!.LayerCount == 2;
            }
        }

        return false;
    }

    [Fact]
    public void A_one_layer_user_costs_at_most_64_bytes_beyond_its_bits_index_share_included()
    {
        var cache = TestTables.New(budgetBytes: 1L << 32, filter: OnePercent);
        long bits = 0;
        for (var u = 1; u <= 50_000; u++)
        {
            var filter = UserFilter.Create(100, OnePercent);
            bits += filter.BitBytes;
            cache.Install((ulong)u, filter);
            // At every population past the first table (16 slots, 152 bytes), not only a lucky one: the index share
            // is largest just after the table doubles.
            if (u >= 16)
            {
                Assert.InRange((cache.Bytes - bits) / (double)u, 40, 64);
            }
        }
    }

    private static void WarmUp()
    {
        // JIT and the options' plans allocate on first use: not the cache's bytes. On a table of its own: the removals
        // leave tombstones, and whether a later insert reuses one depends on the table's random salt, so on the
        // measured table they would make a same-size rehash (a new 152-byte table, no change in IndexBytes) happen
        // in some runs and not others.
        var cache = TestTables.New(budgetBytes: 1L << 32, filter: OnePercent);
        for (var i = 1UL; i <= 3; i++)
        {
            cache.Install(i, UserFilter.Create(100, OnePercent));
            cache.TryGet(i, out var entry);
            _ = entry.Filter;
            cache.Remove(i);
        }
    }
}
