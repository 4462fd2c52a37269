using System.Buffers;
using ReadHistory.Core.Filters;
using Xunit;

namespace ReadHistory.Core.Tests.Filters;

/// <summary>
/// What a loaded snapshot's arrays hold: the same answers and counts as the written filter, and a first-layer header
/// (key, count, capacity, flags) exactly as a filter made in this process has, though the array is allocated uninitialized.
/// </summary>
public sealed class FilterSnapshotLoadTests
{
    private static readonly byte[] Stamp = Enumerable.Range(0, 16).Select(i => (byte)(200 - i)).ToArray();

    [Fact]
    public void A_one_layer_filter_loads_with_the_header_words_of_a_fresh_one()
    {
        var options = new BloomFilterOptions { Seed = 42 };
        var filter = UserFilter.Create(20_000, options);
        filter.AddMany(3, Enumerable.Range(0, 9_000).Select(i => (ulong)i * 11).ToArray());
        Assert.True(filter.IsSingleLayer);
        var bytes = Write(filter);

        for (var round = 0; round < 5; round++)
        {
            var keep = Litter(filter);
            var loaded = UserFilter.ReadSnapshot(bytes, options, new byte[16]);
            GC.KeepAlive(keep);

            Assert.True(loaded.IsSingleLayer);
            AssertHeaderLikeFresh(filter, loaded);
            Assert.Equal(filter.FirstLayer, loaded.FirstLayer);
            AssertSameAnswers(filter, loaded, 3, 30_000);
            Assert.Equal(bytes, Write(loaded));
        }
    }

    [Fact]
    public void A_grown_filter_loads_with_the_same_answers_counts_and_first_header()
    {
        var options = new BloomFilterOptions { Seed = 7, MinimumCapacity = 64 };
        var filter = UserFilter.Create(100, options);
        for (ulong id = 0; id < 5_000; id++)
        {
            filter.Add(9, id * 3);
        }

        Assert.True(filter.LayerCount >= 4);
        var bytes = Write(filter);
        var keep = Litter(filter);
        var stamp = new byte[16];
        var loaded = UserFilter.ReadSnapshot(bytes, options, stamp);
        GC.KeepAlive(keep);

        Assert.Equal(Stamp, stamp);
        Assert.Equal(filter.LayerCount, loaded.LayerCount);
        Assert.Equal(filter.Count, loaded.Count);
        Assert.Equal(filter.Capacity, loaded.Capacity);
        Assert.Equal(filter.BitBytes, loaded.BitBytes);
        AssertHeaderLikeFresh(filter, loaded);
        for (var i = 0; i < filter.LayerCount; i++)
        {
            Assert.Equal(filter.Layers[i].Count, loaded.Layers[i].Count);
            Assert.Equal(filter.Layers[i].Words.ToArray(), loaded.Layers[i].Words.ToArray());
            Assert.Equal(filter.Layers[i].Array.AsSpan(0, FilterWords.HeaderWords).ToArray(), loaded.Layers[i].Array.AsSpan(0, FilterWords.HeaderWords).ToArray());
        }

        AssertSameAnswers(filter, loaded, 9, 20_000);

        // Both go on growing the same way.
        for (ulong id = 0; id < 3_000; id++)
        {
            Assert.Equal(filter.Add(9, 1_000_000 + id), loaded.Add(9, 1_000_000 + id));
        }

        Assert.Equal(filter.LayerCount, loaded.LayerCount);
        Assert.Equal(Write(filter), Write(loaded));
    }

    [Fact]
    public void A_capped_filter_loads_capped_with_the_same_answers_and_stays_within_its_cap()
    {
        var options = new BloomFilterOptions { Seed = 5, MaxBytes = 4096 };
        var filter = UserFilter.Create(100, options);
        for (ulong id = 0; id < 20_000; id++)
        {
            filter.Add(1, id);
        }

        Assert.True(filter.IsCapped);
        var bytes = Write(filter);
        var keep = Litter(filter);
        var loaded = UserFilter.ReadSnapshot(bytes, options, new byte[16]);
        GC.KeepAlive(keep);

        Assert.True(loaded.IsCapped);
        Assert.Equal(filter.LayerCount, loaded.LayerCount);
        Assert.Equal(filter.Count, loaded.Count);
        Assert.Equal(filter.BitBytes, loaded.BitBytes);
        AssertHeaderLikeFresh(filter, loaded);
        AssertSameAnswers(filter, loaded, 1, 40_000);

        for (ulong id = 50_000; id < 60_000; id++)
        {
            loaded.Add(1, id);
        }

        Assert.True(loaded.IsCapped);
        Assert.Equal(filter.BitBytes, loaded.BitBytes);
        Assert.Equal(filter.LayerCount, loaded.LayerCount);
    }

    /// <summary>Key 0 (no cache holds it), the count of keys, the written filter's first capacity, and only the capped flag if it was capped.</summary>
    private static void AssertHeaderLikeFresh(UserFilter written, UserFilter loaded)
    {
        var words = loaded.FirstLayer;
        Assert.Equal(0UL, FilterWords.Key(words));
        Assert.Equal(FilterWords.Count(written.FirstLayer), FilterWords.Count(words));
        Assert.Equal(FilterWords.FirstCapacity(written.FirstLayer), FilterWords.FirstCapacity(words));
        Assert.Equal(FilterWords.Flags(written.FirstLayer), FilterWords.Flags(words));
        Assert.Equal(written.FirstLayer[0], words[0]);
        Assert.Equal(written.FirstLayer[1], words[1]);

        // The same header a filter made here with that capacity and state has.
        var fresh = FilterWords.AllocateFirst(FilterWords.BlockCount(words), FilterWords.FirstCapacity(written.FirstLayer));
        FilterWords.Count(fresh) = FilterWords.Count(written.FirstLayer);
        if (written.IsCapped)
        {
            FilterWords.Set(fresh, FilterWords.CappedFlag);
        }

        Assert.Equal(fresh[0], words[0]);
        Assert.Equal(fresh[1], words[1]);
        Assert.False(FilterWords.Has(words, FilterWords.WriterFlag | FilterWords.ReferencedFlag | FilterWords.DetachedFlag));
    }

    private static void AssertSameAnswers(UserFilter written, UserFilter loaded, ushort type, int ids)
    {
        var keys = Enumerable.Range(0, ids).Select(i => (ulong)i).ToArray();
        var expected = new byte[(ids + 7) / 8];
        var actual = new byte[(ids + 7) / 8];
        Assert.Equal(written.CheckMany(type, keys, expected), loaded.CheckMany(type, keys, actual));
        Assert.Equal(expected, actual);
        foreach (var key in keys.Where(k => k % 97 == 0))
        {
            Assert.Equal(written.MightContain(type, key), loaded.MightContain(type, key));
        }
    }

    /// <summary>
    /// Leaves freed pinned arrays of each layer's size full of ones behind, between small live ones (returned: keep them
    /// alive until the load) so the freed ones stay apart on the free list and an array allocated uninitialized in their
    /// place starts with garbage (the list's links) where a header word left unwritten would show.
    /// </summary>
    private static List<ulong[]> Litter(UserFilter filter)
    {
        var keep = new List<ulong[]>();
        foreach (var layer in filter.Layers)
        {
            for (var i = 0; i < 16; i++)
            {
                GC.AllocateUninitializedArray<ulong>(layer.Array.Length, pinned: true).AsSpan().Fill(ulong.MaxValue);
                keep.Add(GC.AllocateUninitializedArray<ulong>(4, pinned: true));
            }
        }

        GC.Collect();
        return keep;
    }

    private static byte[] Write(UserFilter filter)
    {
        var writer = new ArrayBufferWriter<byte>();
        filter.WriteSnapshot(writer, Stamp);
        return writer.WrittenSpan.ToArray();
    }
}
