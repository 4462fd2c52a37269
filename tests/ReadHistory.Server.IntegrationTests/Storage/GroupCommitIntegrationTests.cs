using MySqlConnector;
using ReadHistory.Server.Storage;
using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.Server.IntegrationTests.Storage;

[Collection(MariaDbFixture.Collection)]
public sealed class GroupCommitIntegrationTests(MariaDbFixture fixture)
{
    private MariaDbServer Server => fixture.Server;

    [Fact]
    public async Task A_full_queue_pushes_back_at_once_while_a_flush_is_stuck_behind_a_lock()
    {
        await using var h = await StorageHarness.CreateAsync(Server, "full", configure: o => o.GroupCommitMaxQueuedRows = 10);
        await using var holder = await HoldRowAsync(h, 21, 1);
        var stuck = h.Writer.WriteAsync(21, 1, Enumerable.Range(1, 10).Select(i => new StoredRead((ulong)i, 0)).ToArray());
        // Gate: the flush's INSERT is in the server's process list, waiting for the held row.
        await WaitForInsertAsync(h);
        Assert.False(stuck.IsCompleted);

        var refused = Assert.Throws<StorageOverloadedException>(() => { _ = h.Writer.WriteAsync(22, 1, [new StoredRead(1, 0)]); });
        Assert.Contains("queue is full", refused.Message, StringComparison.Ordinal);

        await holder.DisposeAsync();
        await stuck.DefaultTimeout();
        Assert.Equal(10, await h.CountWithCliAsync(21));
    }

    [Fact]
    public async Task A_flush_whose_connection_is_killed_is_retried_and_committed()
    {
        await using var h = await StorageHarness.CreateAsync(Server, "kill");
        await using var holder = await HoldRowAsync(h, 31, 1);
        var write = h.Writer.WriteAsync(31, 1, [new StoredRead(1, 5_000), new StoredRead(2, 5_000)]);

        var id = await WaitForInsertAsync(h);
        await Server.SqlAsync($"KILL CONNECTION {id}");
        await holder.DisposeAsync();

        await write.DefaultTimeout();
        Assert.Equal(2, await h.CountWithCliAsync(31));
    }

    [Fact]
    public async Task A_dropped_table_fails_exactly_the_writers_of_that_shard()
    {
        await using var h = await StorageHarness.CreateAsync(Server, "drop");
        var users = Enumerable.Range(1, 40).Select(i => (ulong)i).ToArray();
        var doomed = h.Database.Map.ShardOf(users[0]);
        await Server.SqlAsync($"DROP TABLE {h.Database.Names.QualifiedTable(doomed)}");

        var writes = users.Select(u => (User: u, Task: h.Writer.WriteAsync(u, 1, [new StoredRead(u, 0)]))).ToArray();
        foreach (var (user, task) in writes)
        {
            if (h.Database.Map.ShardOf(user) == doomed)
            {
                var error = await Assert.ThrowsAsync<StorageWriteException>(() => task.DefaultTimeout());
                Assert.Contains("doesn't exist", error.Message, StringComparison.Ordinal);
            }
            else
            {
                await task.DefaultTimeout();
                Assert.Equal(1, await h.CountWithCliAsync(user));
            }
        }
    }

    // Inserts a row and holds its lock in an open transaction until disposed.
    internal static async Task<MySqlConnection> HoldRowAsync(StorageHarness h, ulong user, ulong id)
    {
        await h.Server.SqlAsync($"INSERT INTO {h.TableOf(user)} VALUES ({user}, 1, {id}, 1)");
        var connection = new MySqlConnection(h.Server.ConnectionString(extra: "Pooling=false"));
        await connection.OpenAsync().DefaultTimeout();
        await using (var begin = connection.CreateCommand())
        {
            begin.CommandText = "BEGIN";
            await begin.ExecuteNonQueryAsync().DefaultTimeout();
        }

        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT read_at FROM {h.TableOf(user)} WHERE user_id = {user} AND content_type = 1 AND content_id = {id} FOR UPDATE";
        await command.ExecuteScalarAsync().DefaultTimeout();
        return connection;
    }

    private static Task<string> WaitForInsertAsync(StorageHarness h) =>
        Poll.UntilAsync(
            async () => (await h.Server.SqlAsync($"SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE 'INSERT INTO `{h.Options.DatabasePrefix}%' LIMIT 1")).Trim(),
            static id => id.Length > 0,
            "the writer's INSERT to show up in the process list");
}

/// <summary>Crash tests on a server of their own (they kill it).</summary>
public sealed class GroupCommitDurabilityTests : IAsyncLifetime
{
    private MariaDbServer? _server;

    public async Task InitializeAsync() => _server = await MariaDbServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    [Fact]
    public async Task Every_acknowledged_write_survives_kill_9_of_the_database()
    {
        await using var h = await StorageHarness.CreateAsync(_server!, "crash", configure: o => o.GroupCommitMaxRetries = 2);
        var acked = new long[4];
        var loops = Enumerable.Range(0, 4).Select(k => Task.Run(() => WriteUntilFailureAsync(h, (ulong)(100 + k), acked, k))).ToArray();

        // Bounded: a writer loop that ended early (or a stalled server) fails the test instead of spinning forever.
        await Poll.UntilAsync(
            () =>
            {
                Assert.False(loops.Any(l => l.IsCompleted), "a writer loop ended before the database was killed");
                return Acked(acked) >= 2000;
            },
            "2000 rows to be acknowledged");

        await _server!.KillAsync().DefaultTimeout();
        await Task.WhenAll(loops).DefaultTimeout();
        await _server.RestartAsync().DefaultTimeout();

        for (var k = 0; k < 4; k++)
        {
            var user = (ulong)(100 + k);
            var stored = long.Parse((await _server.SqlAsync($"SELECT COUNT(*) FROM {h.TableOf(user)} WHERE user_id = {user} AND content_id <= {acked[k]}")).Trim(), System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(acked[k], stored);
        }
    }

    [Fact]
    public async Task Acknowledged_writes_are_stored_when_the_writer_is_abandoned_mid_stream()
    {
        var h = await StorageHarness.CreateAsync(_server!, "abandon");
        var acked = new long[4];
        using var stop = new CancellationTokenSource();
        var loops = Enumerable.Range(0, 4).Select(k => Task.Run(() => WriteUntilFailureAsync(h, (ulong)(200 + k), acked, k, stop.Token))).ToArray();

        // Stop after 700 ms of writing, but not before every loop had a write acknowledged: on a loaded machine a loop
        // may not even have started within 700 ms (bounded wait).
        await Task.Delay(700);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (Enumerable.Range(0, 4).Any(k => Volatile.Read(ref acked[k]) == 0) && !loops.Any(l => l.IsCompleted) && waited.Elapsed < TestTimeout.Default)
        {
            await Task.Delay(10);
        }

        await stop.CancelAsync();
        await Task.WhenAll(loops).DefaultTimeout();

        // The writer is never disposed: whatever it still holds is simply lost, and was never acknowledged.
        for (var k = 0; k < 4; k++)
        {
            var user = (ulong)(200 + k);
            Assert.True(acked[k] > 0);
            Assert.True(acked[k] <= await h.CountWithCliAsync(user));
        }
    }

    private static long Acked(long[] acked) => Enumerable.Range(0, acked.Length).Sum(k => Volatile.Read(ref acked[k]));

    // Writes 50 new ids at a time to one user, in order; acked[k] is the highest id acknowledged.
    private static async Task WriteUntilFailureAsync(StorageHarness h, ulong user, long[] acked, int k, CancellationToken stop = default)
    {
        var next = 1UL;
        while (!stop.IsCancellationRequested)
        {
            var items = Enumerable.Range(0, 50).Select(i => new StoredRead(next + (ulong)i, 0)).ToArray();
            try
            {
                await h.Writer.WriteAsync(user, 1, items, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(20), CancellationToken.None);
            }
            catch (StorageWriteException)
            {
                return;
            }

            next += 50;
            Volatile.Write(ref acked[k], (long)next - 1);
        }
    }
}
