using ReadHistory.Core.Filters;
using Xunit;

namespace ReadHistory.Core.Tests.Filters;

public sealed class FilterMemoryTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1_000)]
    [InlineData(100_000)]
    [InlineData(2_000_000)]
    public void Memory_bytes_equal_what_the_runtime_allocated_for_a_new_filter(long rows)
    {
        var options = new BloomFilterOptions { Seed = 1 };
        UserFilter.Create(rows, options); // warms up the options' layer plans and the JIT

        var before = GC.GetAllocatedBytesForCurrentThread();
        var filter = UserFilter.Create(rows, options);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(allocated, filter.MemoryBytes);
        GC.KeepAlive(filter);
    }

    [Fact]
    public void Memory_bytes_of_a_bare_layer_equal_what_the_runtime_allocated()
    {
        BlockedBloomFilter.Create(5_000, 0.01);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var layer = BlockedBloomFilter.Create(5_000, 0.01);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(allocated, layer.MemoryBytes);
    }

    [Fact]
    public void Memory_bytes_count_every_layer_of_a_grown_filter()
    {
        var filter = UserFilter.Create(100, BloomFilterOptions.Default);
        for (ulong id = 0; id < 10_000; id++)
        {
            filter.Add(1, id);
        }

        var layers = filter.Layers;
        var expected = FilterMemory.UserFilterObjectBytes + FilterMemory.ArrayBytes(layers.Count)
            + layers.Sum(l => FilterMemory.LayerObjectBytes + FilterMemory.ArrayBytes((l.BlockCount * 8) + 7));
        Assert.Equal(expected, filter.MemoryBytes);
        Assert.InRange(filter.MemoryBytes - filter.BitBytes, 1, 200 * layers.Count); // the overhead is small and known
    }
}
