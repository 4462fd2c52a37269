using ReadHistory.Server.Storage;
using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.Server.Tests.Storage;

[Collection(MariaDbFixture.Collection)]
public sealed class HistoryStoreTests(MariaDbFixture fixture)
{
    private MariaDbServer Server => fixture.Server;

    [Fact]
    public async Task Point_queries_and_scans_are_exact_against_what_was_written()
    {
        await using var h = await StorageHarness.CreateAsync(Server, "exact");
        var random = new Random(12345);
        var written = new Dictionary<(ulong User, ushort Type), HashSet<ulong>>();
        ulong[] users = [1, 2, 3, ulong.MaxValue, ulong.MaxValue - 7, 0x8000_0000_0000_0000];
        ushort[] types = [0, 1, ushort.MaxValue];
        var writes = new List<Task>();
        foreach (var user in users)
        {
            foreach (var type in types)
            {
                var ids = new HashSet<ulong>();
                while (ids.Count < 300)
                {
                    ids.Add(random.Next(4) == 0 ? ulong.MaxValue - (ulong)random.Next(1000) : (ulong)random.NextInt64(1, long.MaxValue));
                }

                written[(user, type)] = ids;
                writes.Add(h.Writer.WriteAsync(user, type, ids.Select(id => new ReadItem(id, 1_700_000_000_000)).ToArray()));
            }
        }

        await Task.WhenAll(writes).DefaultTimeout();

        foreach (var ((user, type), ids) in written)
        {
            var probe = ids.Take(150).Concat(Enumerable.Range(0, 150).Select(_ => ulong.MaxValue - (ulong)random.Next(2000))).Append(ids.First()).ToArray();
            var found = new bool[probe.Length];
            var count = await h.Store.ContainsAsync(user, type, probe, found).DefaultTimeout();
            Assert.Equal(probe.Select(ids.Contains), found);
            Assert.Equal(found.Count(f => f), count);
        }

        foreach (var user in users)
        {
            var expected = types.SelectMany(t => written[(user, t)].Select(id => (Type: t, Id: id))).OrderBy(r => r.Type).ThenBy(r => r.Id).ToArray();
            var scanned = await h.ScanAllAsync(user);
            Assert.Equal(expected, scanned.Select(r => (r.ContentType, r.ContentId)).ToArray());
            Assert.All(scanned, r => Assert.Equal(1_700_000_000u, r.ReadAt));
            Assert.Equal(expected.Length, await h.Store.CountAsync(user).DefaultTimeout());
        }
    }

    [Fact]
    public async Task Long_id_lists_are_split_into_bounded_IN_lists()
    {
        await using var h = await StorageHarness.CreateAsync(Server, "chunk", configure: o => o.PointQueryChunk = 7);
        await h.Writer.WriteAsync(11, 2, Enumerable.Range(1, 50).Select(i => new ReadItem((ulong)i * 2, 0)).ToArray()).DefaultTimeout();

        var probe = Enumerable.Range(1, 100).Select(i => (ulong)i).ToArray();
        var found = new bool[probe.Length];
        Assert.Equal(50, await h.Store.ContainsAsync(11, 2, probe, found).DefaultTimeout());
        Assert.Equal(probe.Select(id => id % 2 == 0), found);
    }

    [Fact]
    public async Task A_repeated_read_keeps_the_latest_read_time()
    {
        await using var h = await StorageHarness.CreateAsync(Server, "latest");
        await h.Writer.WriteAsync(5, 1, [new ReadItem(9, 2_000_000)]).DefaultTimeout();
        await h.Writer.WriteAsync(5, 1, [new ReadItem(9, 1_000_000)]).DefaultTimeout();
        Assert.Equal(2000u, Assert.Single(await h.ScanAllAsync(5)).ReadAt);

        await h.Writer.WriteAsync(5, 1, [new ReadItem(9, 3_000_000)]).DefaultTimeout();
        Assert.Equal(3000u, Assert.Single(await h.ScanAllAsync(5)).ReadAt);
    }

    [Fact]
    public async Task Forget_deletes_every_row_of_the_user_and_nothing_else()
    {
        await using var h = await StorageHarness.CreateAsync(Server, "forget");
        await Server.SqlAsync($"INSERT INTO {h.TableOf(77)} SELECT 77, seq % 3, seq, 1 FROM seq_1_to_25000", h.Options.DatabasePrefix + "_0");
        await h.Writer.WriteAsync(78, 1, [new ReadItem(1, 0), new ReadItem(2, 0)]).DefaultTimeout();

        Assert.Equal(25_000, await h.Store.ForgetAsync(77).DefaultTimeout());

        Assert.Equal(0, await h.Store.CountAsync(77).DefaultTimeout());
        Assert.Empty(await h.ScanAllAsync(77));
        Assert.Equal(2, await h.Store.CountAsync(78).DefaultTimeout());
        Assert.Equal(0, await h.Store.ForgetAsync(77).DefaultTimeout());
    }

    [Fact]
    public async Task A_big_scan_runs_while_point_queries_keep_answering_correctly()
    {
        await using var h = await StorageHarness.CreateAsync(Server, "bigscan");
        const ulong Big = 1000;
        const ulong Small = 1001;
        await Server.SqlAsync($"INSERT INTO {h.TableOf(Big)} SELECT {Big}, seq % 2, seq, 1 FROM seq_1_to_300000", h.Options.DatabasePrefix + "_0");
        await h.Writer.WriteAsync(Small, 1, Enumerable.Range(1, 400).Select(i => new ReadItem((ulong)i * 3, 0)).ToArray()).DefaultTimeout();
        var probe = Enumerable.Range(1, 400).Select(i => (ulong)i).ToArray();
        var expected = probe.Select(id => id % 3 == 0).ToArray();

        using var stop = new CancellationTokenSource();
        var queries = Task.Run(async () =>
        {
            var n = 0;
            while (!stop.IsCancellationRequested)
            {
                var found = new bool[probe.Length];
                await h.Store.ContainsAsync(Small, 1, probe, found);
                Assert.Equal(expected, found);
                n++;
            }

            return n;
        });

        long rows = 0;
        (int Type, ulong Id) previous = (-1, 0UL);
        await foreach (var row in h.Store.ScanAsync(Big).WithCancellation(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token))
        {
            Assert.True(((int)row.ContentType, row.ContentId).CompareTo(previous) > 0, "scan out of primary-key order");
            previous = (row.ContentType, row.ContentId);
            rows++;
        }

        await stop.CancelAsync();
        var pointQueries = await queries.DefaultTimeout();
        Assert.Equal(300_000, rows);
        Assert.True(pointQueries > 0);
    }
}
