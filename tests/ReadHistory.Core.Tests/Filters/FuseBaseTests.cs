using System.Buffers;
using ReadHistory.Core.Caching;
using ReadHistory.Core.Filters;
using Xunit;

namespace ReadHistory.Core.Tests.Filters;

public sealed class FuseBaseTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    private static ContentKey[] Rows(int count, ulong salt = 0) =>
        Enumerable.Range(0, count).Select(i => new ContentKey(1, ((ulong)i * 2) + 1 + (salt << 40))).ToArray();

    [Theory]
    [InlineData(1_000)]
    [InlineData(20_000)]
    [InlineData(300_000)]
    public void A_rebuilt_user_gets_a_fuse_base_that_holds_every_row(int rows)
    {
        var keys = Rows(rows);

        var filter = UserFilter.Rebuild(keys, BloomFilterOptions.Default);

        Assert.True(filter.HasFuseBase);
        Assert.Equal(1, filter.LayerCount);
        Assert.Equal(rows, filter.Count);
        Assert.All(keys, key => Assert.True(filter.MightContain(key.Type, key.Id)));
        var bitmap = new byte[FilterBitmap.BytesFor(rows)];
        Assert.Equal(0, filter.CheckMany(1, keys.Select(k => k.Id).ToArray(), bitmap));
    }

    [Theory]
    [InlineData(10_000, 10.6)]
    [InlineData(300_000, 9.4)]
    public void A_fuse_base_costs_far_fewer_bits_per_row_than_the_bloom_layer_and_measures_its_rate(int rows, double maxBitsPerRow)
    {
        var filter = UserFilter.Rebuild(Rows(rows), BloomFilterOptions.Default);

        var hits = 0;
        const int queries = 400_000;
        for (ulong id = 0; id < queries; id++)
        {
            hits += filter.MightContain(1, id * 2) ? 1 : 0; // even ids were never added
        }

        Assert.InRange(filter.BitBytes * 8.0 / rows, 8, maxBitsPerRow); // a Bloom layer with headroom: 14.5
        Assert.InRange(hits / (double)queries, 0.0025, 0.0055); // 2^-8 = 0.39 %
        Assert.Equal(FuseLayer.FalsePositiveRate, filter.EstimatedFalsePositiveRate);
    }

    [Fact]
    public void A_small_user_keeps_the_bloom_layer_and_so_does_a_pool_without_fuse_bases()
    {
        Assert.False(UserFilter.Rebuild(Rows(200), BloomFilterOptions.Default).HasFuseBase);
        Assert.False(UserFilter.Rebuild(Rows(20_000), new BloomFilterOptions { FuseBase = false }).HasFuseBase);
    }

    [Fact]
    public void A_pool_whose_target_is_tighter_than_a_fuse_base_keeps_the_bloom_layer()
    {
        var options = new BloomFilterOptions { TargetFalsePositiveRate = 0.001 };

        var filter = UserFilter.Rebuild(Rows(20_000), options);

        Assert.False(filter.HasFuseBase);
        Assert.InRange(filter.EstimatedFalsePositiveRate, 0, 0.001);
    }

    [Fact]
    public void Random_users_of_random_sizes_keep_every_row_whatever_layer_they_get()
    {
        // Against an exact set: every row of every user, by the single and the batch check (the batch path prefetches).
        var random = new Random(42);
        for (var user = 0; user < 60; user++)
        {
            var rows = random.Next(500, 30_000);
            var keys = Enumerable.Range(0, rows).Select(_ => new ContentKey((ushort)random.Next(1, 4), (ulong)random.NextInt64())).ToArray();
            var filter = UserFilter.Rebuild(keys, BloomFilterOptions.Default);

            var bitmap = new byte[FilterBitmap.BytesFor(keys.Length)];
            foreach (var type in keys.Select(k => k.Type).Distinct())
            {
                var ids = keys.Where(k => k.Type == type).Select(k => k.Id).ToArray();
                Assert.Equal(0, filter.CheckMany(type, ids, bitmap));
                Assert.Equal(0, filter.CheckMany(type, ids, bitmap, ProbePath.Scalar));
            }

            Assert.All(keys, key => Assert.True(filter.MightContain(key.Type, key.Id), $"user {user} of {rows} rows"));
        }
    }

    [Fact]
    public void Repeated_rows_are_built_in_once()
    {
        var keys = Rows(5_000);
        var filter = UserFilter.Rebuild(keys.Concat(keys.Take(100)).ToArray(), BloomFilterOptions.Default);

        Assert.True(filter.HasFuseBase);
        Assert.Equal(5_000, filter.Count);
        Assert.All(keys, key => Assert.True(filter.MightContain(key.Type, key.Id)));
    }

    [Fact]
    public void Reads_after_the_rebuild_go_to_a_delta_and_the_compound_rate_stays_under_the_target()
    {
        var rows = Rows(20_000);
        var filter = UserFilter.Rebuild(rows, BloomFilterOptions.Default);
        var later = Rows(20_000, salt: 1); // the user doubles its history before the next rebuild

        Assert.False(filter.Add(rows[5].Type, rows[5].Id)); // a row the base holds changes nothing
        foreach (var key in later)
        {
            filter.Add(key.Type, key.Id);
        }

        Assert.True(filter.HasFuseBase);
        Assert.InRange(filter.LayerCount, 2, 8);
        Assert.All(rows.Concat(later), key => Assert.True(filter.MightContain(key.Type, key.Id)));
        var hits = 0;
        const int queries = 400_000;
        for (ulong id = 0; id < queries; id++)
        {
            hits += filter.MightContain(1, id * 2) ? 1 : 0;
        }

        Assert.InRange(hits / (double)queries, 0, 0.01);
        Assert.InRange(filter.EstimatedFalsePositiveRate, 0, 0.01);
    }

    [Fact]
    public void A_snapshot_of_a_fuse_based_user_loads_with_the_same_answers()
    {
        var rows = Rows(8_000);
        var filter = UserFilter.Rebuild(rows, BloomFilterOptions.Default);
        filter.Add(1, 4); // one delta layer
        var writer = new ArrayBufferWriter<byte>();
        filter.WriteSnapshot(writer, new byte[16]);

        var loaded = UserFilter.ReadSnapshot(writer.WrittenSpan, BloomFilterOptions.Default, new byte[16]);

        Assert.True(loaded.HasFuseBase);
        Assert.Equal(filter.LayerCount, loaded.LayerCount);
        Assert.Equal(filter.Count, loaded.Count);
        Assert.Equal(filter.BitBytes, loaded.BitBytes);
        Assert.True(loaded.MightContain(1, 4));
        Assert.All(rows, key => Assert.True(loaded.MightContain(key.Type, key.Id)));
        for (ulong id = 0; id < 20_000; id++)
        {
            Assert.Equal(filter.MightContain(1, id * 2), loaded.MightContain(1, id * 2));
        }
    }

    [Fact]
    public void A_fuse_layout_that_does_not_match_its_length_is_refused_even_with_a_valid_checksum()
    {
        var filter = UserFilter.Rebuild(Rows(8_000), BloomFilterOptions.Default);
        var writer = new ArrayBufferWriter<byte>();
        filter.WriteSnapshot(writer, new byte[16]);
        var bytes = writer.WrittenSpan.ToArray();
        var layout = FilterSnapshotHeader.Size + FilterSnapshotLayer.Size; // the first word of layer 0's "blocks"
        bytes[layout + 4] ^= 0x40; // the segment count: slots beyond the array
        var crc = ReadHistory.Core.Hashing.Crc32C.Compute(bytes.AsSpan(0, bytes.Length - 4));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(bytes.Length - 4), crc);

        var error = Assert.Throws<FilterSnapshotException>(() => UserFilter.ReadSnapshot(bytes, BloomFilterOptions.Default, new byte[16]));

        Assert.Contains("fuse layout", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_cache_holds_a_fuse_based_user_as_its_bare_array_and_grows_it_on_a_new_read()
    {
        var table = new FilterTable(1L << 30, BloomFilterOptions.Default);
        var filter = UserFilter.Rebuild(Rows(10_000), BloomFilterOptions.Default);
        var empty = table.Bytes;
        table.Install(9, filter);

        Assert.Equal(filter.BitBytes + 40, table.Bytes - empty);
        Assert.True(table.TryGet(9, out var entry));
        table.Add(entry, 1, 3); // held by the base: nothing changes
        Assert.Equal(filter.BitBytes + 40, table.Bytes - empty);

        table.Add(entry, 1, 10); // new: the user becomes a grown filter with a delta
        Assert.True(table.TryGet(9, out var grown));
        Assert.Equal(2, grown.Filter!.LayerCount);
        Assert.True(grown.Filter.HasFuseBase);
        var bitmap = new byte[1];
        Assert.Equal(0, grown.CheckMany(1, [3, 10], bitmap));
        Assert.Equal(grown.Filter.MemoryBytes - FilterMemory.UserFilterObjectBytes + 56 + FilterMemory.UserFilterObjectBytes, table.Bytes - empty);
    }

    [Fact]
    public async Task Reads_added_through_the_cache_during_checks_are_never_missed()
    {
        // A fuse-based user in a cache, writers adding new reads through the table (the first one promotes the bare
        // array to a grown filter, later ones chain layers), readers checking ids whose add completed: against the exact
        // set of what was added, no check may answer "unread".
        var table = new FilterTable(1L << 30, BloomFilterOptions.Default);
        var rows = Rows(4_000);
        table.Install(5, UserFilter.Rebuild(rows, BloomFilterOptions.Default));
        const int writers = 2;
        const int readers = 2;
        const int perWriter = 30_000;
        var completed = new long[writers];
        var failures = new long[readers];
        var done = 0;
        var start = new Barrier(writers + readers);
        var writerTasks = Enumerable.Range(0, writers).Select(w => Task.Factory.StartNew(
            () =>
            {
                start.SignalAndWait(Limit);
                for (var i = 0L; i < perWriter; i++)
                {
                    table.TryGet(5, out var entry);
                    table.Add(entry, (ushort)(10 + w), (ulong)i);
                    Volatile.Write(ref completed[w], i + 1);
                }
            },
            TaskCreationOptions.LongRunning)).ToArray();
        var readerTasks = Enumerable.Range(0, readers).Select(r => Task.Factory.StartNew(
            () =>
            {
                var random = new Random(r);
                var ids = new ulong[100];
                var bitmap = new byte[FilterBitmap.BytesFor(ids.Length)];
                start.SignalAndWait(Limit);
                while (Volatile.Read(ref done) == 0)
                {
                    var w = random.Next(writers);
                    var upTo = Volatile.Read(ref completed[w]);
                    if (upTo == 0)
                    {
                        continue;
                    }

                    for (var i = 0; i < ids.Length; i++)
                    {
                        ids[i] = (ulong)(i < 50 ? Math.Max(0, upTo - 1 - i) : random.NextInt64(upTo));
                    }

                    table.TryGet(5, out var entry);
                    failures[r] += entry.CheckMany((ushort)(10 + w), ids, bitmap);
                    var base_ = rows[random.Next(rows.Length)];
                    failures[r] += entry.CheckMany(base_.Type, [base_.Id], bitmap);
                }
            },
            TaskCreationOptions.LongRunning)).ToArray();

        await Task.WhenAll(writerTasks).WaitAsync(Limit);
        Volatile.Write(ref done, 1);
        await Task.WhenAll(readerTasks).WaitAsync(Limit);

        Assert.Equal(0, failures.Sum());
        Assert.True(table.TryGet(5, out var final));
        Assert.True(final.Filter!.HasFuseBase);
        for (var w = 0; w < writers; w++)
        {
            for (ulong id = 0; id < perWriter; id++)
            {
                Assert.True(final.Filter.MightContain((ushort)(10 + w), id));
            }
        }
    }
}
