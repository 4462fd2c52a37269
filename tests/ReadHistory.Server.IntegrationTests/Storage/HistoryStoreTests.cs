using ReadHistory.Server.Storage;
using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.Server.IntegrationTests.Storage;

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
                writes.Add(h.Writer.WriteAsync(user, type, ids.Select(id => new StoredRead(id, 1_700_000_000_000)).ToArray()));
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
        await h.Writer.WriteAsync(11, 2, Enumerable.Range(1, 50).Select(i => new StoredRead((ulong)i * 2, 0)).ToArray()).DefaultTimeout();

        var probe = Enumerable.Range(1, 100).Select(i => (ulong)i).ToArray();
        var found = new bool[probe.Length];
        Assert.Equal(50, await h.Store.ContainsAsync(11, 2, probe, found).DefaultTimeout());
        Assert.Equal(probe.Select(id => id % 2 == 0), found);
    }

    [Fact]
    public async Task Prepared_point_queries_are_exact_for_every_slot_count_duplicates_types_and_long_lists()
    {
        await using var h = await StorageHarness.CreateAsync(Server, "prepared");
        const ulong User = 4242;
        var random = new Random(777);
        var stored = new HashSet<ulong>();
        while (stored.Count < 6000)
        {
            stored.Add((ulong)random.NextInt64(1, 1L << 40));
        }

        stored.Add(ulong.MaxValue);
        var storedList = stored.ToArray();
        for (var start = 0; start < storedList.Length; start += 2000)
        {
            var part = storedList.Skip(start).Take(2000).Select(id => new StoredRead(id, 0)).ToArray();
            await h.Writer.WriteAsync(User, 1, part).DefaultTimeout();
        }

        // The same ids under another type and another user must not leak into type 1 of this user.
        await h.Writer.WriteAsync(User, 2, [new StoredRead(5, 0), new StoredRead(6, 0)]).DefaultTimeout();
        await h.Writer.WriteAsync(User + 1, 1, [new StoredRead(5, 0), new StoredRead(7, 0)]).DefaultTimeout();
        Assert.Equal([1, 8, 32, 128, HistoryStore.MaxPreparedSlots], h.Store.PointQuerySlots);

        var text = new HistoryStore(h.Database, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, new StorageMetrics()) { PreparedPointQueries = false };
        foreach (var length in new[] { 1, 2, 8, 9, 31, 33, 200, 512, 513, 998, 999, 1000, 1001, 1998, 2500, 10_000 })
        {
            var probe = new ulong[length];
            for (var i = 0; i < length; i++)
            {
                probe[i] = random.Next(5) switch
                {
                    0 => storedList[random.Next(storedList.Length)],
                    1 => i > 0 ? probe[random.Next(i)] : 5, // duplicates of earlier ids, stored or not
                    2 => (ulong)random.Next(1, 10), // 5, 6, 7 exist only under another type or user
                    _ => (ulong)random.NextInt64(1, 1L << 40),
                };
            }

            var found = new bool[length];
            var count = await h.Store.ContainsAsync(User, 1, probe, found).DefaultTimeout();
            Assert.Equal(probe.Select(stored.Contains), found);
            Assert.Equal(found.Count(f => f), count);

            var foundText = new bool[length];
            Assert.Equal(count, await text.ContainsAsync(User, 1, probe, foundText).DefaultTimeout());
            Assert.Equal(found, foundText);
        }

        Assert.Equal(0, await h.Store.ContainsAsync(User, 1, ReadOnlyMemory<ulong>.Empty, Memory<bool>.Empty).DefaultTimeout());
        var other = new bool[3];
        Assert.Equal(2, await h.Store.ContainsAsync(User, 2, new ulong[] { 5, 7, 6 }, other).DefaultTimeout());
        Assert.Equal([true, false, true], other);
        Assert.Equal(0, await h.Store.ContainsAsync(User, 3, new ulong[] { 5, 6, 7 }, other).DefaultTimeout());
        Assert.Equal([false, false, false], other);
    }

    [Theory]
    [InlineData(1, new[] { 1 })]
    [InlineData(7, new[] { 1, 7 })]
    [InlineData(128, new[] { 1, 8, 32, 128 })]
    [InlineData(300, new[] { 1, 8, 32, 128, 300 })]
    [InlineData(1000, new[] { 1, 8, 32, 128, 512 })]
    [InlineData(10_000, new[] { 1, 8, 32, 128, 512 })]
    public void The_slot_ladder_ends_at_the_chunk(int chunk, int[] expected) => Assert.Equal(expected, HistoryStore.SlotLadder(chunk));

    [Fact]
    public async Task A_point_session_prepares_each_statement_once_and_reuses_it_across_rentals()
    {
        await using var h = await StorageHarness.CreateAsync(Server, "reuse", databases: 1, tables: 1, configure: o => o.PointPoolSize = 1);
        await h.Writer.WriteAsync(9, 1, Enumerable.Range(1, 300).Select(i => new StoredRead((ulong)i * 5, 0)).ToArray()).DefaultTimeout();
        var probe = Enumerable.Range(1, 400).Select(i => (ulong)i).ToArray();

        const int Calls = 20;
        for (var call = 0; call < Calls; call++)
        {
            var found = new bool[probe.Length];
            Assert.Equal(80, await h.Store.ContainsAsync(9, 1, probe, found).DefaultTimeout());
        }

        // One 1-slot query as well: a second statement on the same session, prepared once too.
        Assert.Equal(1, await h.Store.ContainsAsync(9, 1, new ulong[] { 5 }, new bool[1]).DefaultTimeout());
        Assert.Equal(1, await h.Store.ContainsAsync(9, 1, new ulong[] { 10 }, new bool[1]).DefaultTimeout());

        // The pool holds one session, so this is the session every call above ran on; its counters were never reset.
        await using var connection = await h.Database.Connections.OpenAsync(StoragePool.Point, CancellationToken.None).DefaultTimeout();
        await using var command = connection.CreateCommand();
        command.CommandText = "SHOW SESSION STATUS WHERE Variable_name IN ('Com_stmt_prepare', 'Com_stmt_execute', 'Com_select')";
        var status = new Dictionary<string, long>(StringComparer.OrdinalIgnoreCase);
        await using (var reader = await command.ExecuteReaderAsync().DefaultTimeout())
        {
            while (await reader.ReadAsync())
            {
                status[reader.GetString(0)] = long.Parse(reader.GetString(1), System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        Assert.Equal(2, status["Com_stmt_prepare"]);
        Assert.Equal(Calls + 2, status["Com_stmt_execute"]);
    }

    [Fact]
    public async Task A_repeated_read_keeps_the_latest_read_time()
    {
        await using var h = await StorageHarness.CreateAsync(Server, "latest");
        await h.Writer.WriteAsync(5, 1, [new StoredRead(9, 2_000_000)]).DefaultTimeout();
        await h.Writer.WriteAsync(5, 1, [new StoredRead(9, 1_000_000)]).DefaultTimeout();
        Assert.Equal(2000u, Assert.Single(await h.ScanAllAsync(5)).ReadAt);

        await h.Writer.WriteAsync(5, 1, [new StoredRead(9, 3_000_000)]).DefaultTimeout();
        Assert.Equal(3000u, Assert.Single(await h.ScanAllAsync(5)).ReadAt);
    }

    [Fact]
    public async Task Forget_deletes_every_row_of_the_user_and_nothing_else()
    {
        await using var h = await StorageHarness.CreateAsync(Server, "forget");
        await Server.SqlAsync($"INSERT INTO {h.TableOf(77)} SELECT 77, seq % 3, seq, 1 FROM seq_1_to_25000", h.Options.DatabasePrefix + "_0");
        await h.Writer.WriteAsync(78, 1, [new StoredRead(1, 0), new StoredRead(2, 0)]).DefaultTimeout();

        Assert.Equal(25_000, await h.Store.ForgetAsync(77).DefaultTimeout());

        Assert.Equal(0, await h.Store.CountAsync(77).DefaultTimeout());
        Assert.Empty(await h.ScanAllAsync(77));
        Assert.Equal(2, await h.Store.CountAsync(78).DefaultTimeout());
        Assert.Equal(0, await h.Store.ForgetAsync(77).DefaultTimeout());
    }

    [Fact]
    public async Task Concurrent_forgets_of_one_user_among_writes_all_succeed()
    {
        // MyRocks answers a delete whose snapshot predates another delete's commit of the same rows with "Deadlock
        // found ... (snapshot conflict)"; forget retries it as the writer does, so no call fails.
        await using var h = await StorageHarness.CreateAsync(Server, "forgetrace", databases: 1, tables: 1);
        const ulong User = 91;
        var failures = new List<Exception>();
        for (var round = 0; round < 20; round++)
        {
            await Server.SqlAsync($"INSERT INTO {h.TableOf(User)} SELECT {User}, 1, seq, 1 FROM seq_1_to_20000", h.Options.DatabasePrefix + "_0");
            var ids = Enumerable.Range(1, 300).Select(i => new StoredRead((ulong)i, 2_000)).ToArray();
            Task[] calls =
            [
                h.Store.ForgetAsync(User),
                h.Store.ForgetAsync(User),
                h.Writer.WriteAsync(User, 1, ids),
                h.Store.ForgetAsync(User),
                h.Store.ForgetAsync(User),
                h.Writer.WriteAsync(User, 2, ids),
            ];
            foreach (var call in calls)
            {
                try
                {
                    await call.DefaultTimeout();
                }
                catch (Exception e) when (e is not TimeoutException)
                {
                    failures.Add(e);
                }
            }
        }

        Assert.Empty(failures);
        await h.Store.ForgetAsync(User).DefaultTimeout();
        Assert.Equal(0, await h.Store.CountAsync(User).DefaultTimeout());
    }

    [Fact]
    public async Task A_big_scan_runs_while_point_queries_keep_answering_correctly()
    {
        await using var h = await StorageHarness.CreateAsync(Server, "bigscan");
        const ulong Big = 1000;
        const ulong Small = 1001;
        await Server.SqlAsync($"INSERT INTO {h.TableOf(Big)} SELECT {Big}, seq % 2, seq, 1 FROM seq_1_to_300000", h.Options.DatabasePrefix + "_0");
        await h.Writer.WriteAsync(Small, 1, Enumerable.Range(1, 400).Select(i => new StoredRead((ulong)i * 3, 0)).ToArray()).DefaultTimeout();
        var probe = Enumerable.Range(1, 400).Select(i => (ulong)i).ToArray();
        var expected = probe.Select(id => id % 3 == 0).ToArray();

        using var stop = new CancellationTokenSource();
        var queries = Task.Run(async () =>
        {
            // At least one query even if this task only starts after the scan ended (a loaded machine's thread pool).
            var n = 0;
            do
            {
                var found = new bool[probe.Length];
                await h.Store.ContainsAsync(Small, 1, probe, found).DefaultTimeout();
                Assert.Equal(expected, found);
                n++;
            }
            while (!stop.IsCancellationRequested);

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
