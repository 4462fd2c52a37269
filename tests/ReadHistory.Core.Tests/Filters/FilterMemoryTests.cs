using ReadHistory.Core.Filters;
using Xunit;

namespace ReadHistory.Core.Tests.Filters;

[Collection(ExactAllocationTests.Name)]
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
        // The first layer is a bare array; each grown one an object and its array, listed in an array of its own.
        var expected = FilterMemory.UserFilterObjectBytes + FilterMemory.ArrayBytes(2 + (layers[0].BlockCount * 8))
            + FilterMemory.ArrayBytes(layers.Count - 1)
            + layers.Skip(1).Sum(l => FilterMemory.LayerObjectBytes + FilterMemory.ArrayBytes(2 + (l.BlockCount * 8)));
        Assert.Equal(expected, filter.MemoryBytes);
        Assert.InRange(filter.MemoryBytes - filter.BitBytes, 1, 120 * layers.Count); // the overhead is small and known
    }

    [Fact]
    public void A_one_layer_filter_costs_80_bytes_beyond_its_bits_and_its_array_alone_40()
    {
        var filter = UserFilter.Create(1_000, BloomFilterOptions.Default);

        Assert.Equal(80, filter.MemoryBytes - filter.BitBytes); // object 40, array header 24, header words 16
        Assert.Equal(40, FilterWords.MemoryBytes(filter.FirstLayer) - filter.BitBytes);
    }

    [Fact]
    public void Memory_bytes_of_a_filter_that_grew_equal_what_its_growth_allocated()
    {
        // Grow a first filter untimed, so one-time allocations of the runtime on this thread (type loading, JIT stubs
        // of the growth path) happen before the one that is measured; a run did count 360 such bytes once in ~5 runs.
        var warm = UserFilter.Create(100, BloomFilterOptions.Default);
        for (ulong w = 1; warm.LayerCount == 1; w++)
        {
            warm.Add(1, w);
        }

        var filter = UserFilter.Create(100, BloomFilterOptions.Default);
        ulong id = 0;
        while (filter.LayerCount == 1)
        {
            var (bytes, before) = (filter.MemoryBytes, GC.GetAllocatedBytesForCurrentThread());
            filter.Add(1, ++id);
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.Equal(allocated, filter.MemoryBytes - bytes);
        }
    }

    [Fact]
    public void A_loaded_snapshot_of_the_pools_design_shares_the_pools_shape_and_costs_what_a_built_filter_costs()
    {
        var options = new BloomFilterOptions { Seed = 3 };
        var built = UserFilter.Create(1_000, options);
        built.Add(1, 42);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        built.WriteSnapshot(buffer, new byte[16]);

        var loaded = UserFilter.ReadSnapshot(buffer.WrittenSpan, options, new byte[16]);

        Assert.Same(options.Shape, loaded.Shape);
        Assert.Equal(built.MemoryBytes, loaded.MemoryBytes);
        Assert.NotSame(options.Shape, UserFilter.ReadSnapshot(buffer.WrittenSpan, new BloomFilterOptions { Seed = 4 }, new byte[16]).Shape);
    }
}
