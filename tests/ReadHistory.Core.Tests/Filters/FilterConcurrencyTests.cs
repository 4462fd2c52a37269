using ReadHistory.Core.Filters;
using Xunit;

namespace ReadHistory.Core.Tests.Filters;

public sealed class FilterConcurrencyTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Writers_setting_different_bits_of_the_same_words_lose_none()
    {
        // One-block filters, one probe: the hash (pos << 23) sets exactly bit pos. Writer w owns the bits
        // pos ≡ w (mod writers) of every word, and the writers race through the same filters in step, so a
        // read-modify-write that is not atomic loses bits here (the test fails if Add uses a plain |=).
        const int writers = 2;
        const int rounds = 4_000;
        var filters = Enumerable.Range(0, rounds).Select(_ => new BlockedBloomFilter(1, 1, 512, 0.5)).ToArray();
        var start = new Barrier(writers);
        var tasks = Enumerable.Range(0, writers).Select(w => Task.Factory.StartNew(
            () =>
            {
                start.SignalAndWait(Limit);
                foreach (var filter in filters)
                {
                    for (var pos = (ulong)w; pos < 512; pos += writers)
                    {
                        filter.Add(pos << 23);
                    }
                }
            },
            TaskCreationOptions.LongRunning)).ToArray();
        await Task.WhenAll(tasks).WaitAsync(Limit);

        Assert.All(filters, filter => Assert.All(filter.Words.ToArray(), word => Assert.Equal(ulong.MaxValue, word)));
    }

    [Fact]
    public async Task User_filter_writers_racing_on_one_block_lose_no_key()
    {
        // One-block filters (the byte cap allows no more) filled to about 40 %: two writers race through the same
        // filters in step, and every key of both must be present afterwards. Without the writer lock this fails
        // reliably once the read-modify-write window is widened; the bare `or [mem], reg` window is a few cycles
        // and may slip through on a loaded two-core machine.
        const int writers = 2;
        const int rounds = 3_000;
        const int keysPerWriter = 12;
        var options = new BloomFilterOptions { MaxBytes = 64, MinimumCapacity = 1, Seed = 3 };
        var filters = Enumerable.Range(0, rounds).Select(_ => UserFilter.Create(1, options)).ToArray();
        var start = new Barrier(writers);
        var tasks = Enumerable.Range(0, writers).Select(w => Task.Factory.StartNew(
            () =>
            {
                start.SignalAndWait(Limit);
                for (var r = 0; r < rounds; r++)
                {
                    for (var i = 0; i < keysPerWriter; i++)
                    {
                        filters[r].Add((ushort)w, (ulong)((r * 1000) + i));
                    }
                }
            },
            TaskCreationOptions.LongRunning)).ToArray();
        await Task.WhenAll(tasks).WaitAsync(Limit);

        for (var r = 0; r < rounds; r++)
        {
            Assert.Equal(64, filters[r].BitBytes);
            for (var w = 0; w < writers; w++)
            {
                for (var i = 0; i < keysPerWriter; i++)
                {
                    Assert.True(filters[r].MightContain((ushort)w, (ulong)((r * 1000) + i)), $"round {r}, writer {w}, key {i}");
                }
            }
        }
    }

    [Fact]
    public async Task A_key_whose_add_completed_before_a_check_started_is_always_found_while_layers_are_added()
    {
        // Starts tiny so that the writers chain many layers while the readers run.
        var filter = UserFilter.Create(64, new BloomFilterOptions { MinimumCapacity = 64, Seed = 5 });
        const int writers = 3;
        const int readers = 3;
        const int perWriter = 60_000;
        var completed = new long[writers]; // ids 0 .. completed[w] − 1 of writer w are added
        var failures = new long[readers];
        var checks = new long[readers];
        var done = 0;
        var start = new Barrier(writers + readers);

        var writerTasks = Enumerable.Range(0, writers).Select(w => Task.Factory.StartNew(
            () =>
            {
                start.SignalAndWait(Limit);
                for (var i = 0L; i < perWriter; i++)
                {
                    filter.Add((ushort)w, (ulong)i);
                    Volatile.Write(ref completed[w], i + 1);
                }
            },
            TaskCreationOptions.LongRunning)).ToArray();

        var readerTasks = Enumerable.Range(0, readers).Select(r => Task.Factory.StartNew(
            () =>
            {
                var random = new Random(r);
                var ids = new ulong[200];
                var bitmap = new byte[FilterBitmap.BytesFor(ids.Length)];
                start.SignalAndWait(Limit);
                while (Volatile.Read(ref done) == 0)
                {
                    var w = random.Next(writers);
                    var upTo = Volatile.Read(ref completed[w]); // every id below this was added before now
                    if (upTo == 0)
                    {
                        continue;
                    }

                    // The newest ids (the likeliest to race) and a spread of older ones.
                    for (var i = 0; i < ids.Length; i++)
                    {
                        ids[i] = (ulong)(i < 100 ? Math.Max(0, upTo - 1 - i) : random.NextInt64(upTo));
                    }

                    var absent = filter.CheckMany((ushort)w, ids, bitmap);
                    var single = filter.MightContain((ushort)w, (ulong)(upTo - 1));
                    failures[r] += absent + (single ? 0 : 1);
                    checks[r] += ids.Length + 1;
                }
            },
            TaskCreationOptions.LongRunning)).ToArray();

        await Task.WhenAll(writerTasks).WaitAsync(Limit);
        Volatile.Write(ref done, 1);
        await Task.WhenAll(readerTasks).WaitAsync(Limit);

        Assert.Equal(0, failures.Sum());
        Assert.True(checks.Sum() > 10_000, $"only {checks.Sum()} checks ran");
        Assert.True(filter.LayerCount >= 8, $"{filter.LayerCount} layers");
        for (var w = 0; w < writers; w++)
        {
            for (ulong id = 0; id < perWriter; id++)
            {
                Assert.True(filter.MightContain((ushort)w, id));
            }
        }

        // Concurrent adds of distinct keys are each counted (a key re-added by a racing thread may count twice).
        Assert.InRange(filter.Count, (writers * perWriter) - 2_000, writers * perWriter);
    }
}
