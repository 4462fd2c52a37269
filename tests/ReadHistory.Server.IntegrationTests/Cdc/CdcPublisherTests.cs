using ReadHistory.Core.Routing;
using ReadHistory.Server.Cdc;
using ReadHistory.Server.Storage;
using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.Server.IntegrationTests.Cdc;

[Collection(CdcServersFixture.Collection)]
public sealed class CdcPublisherTests(CdcServersFixture servers)
{
    [Fact]
    public async Task Rows_written_through_storage_appear_on_the_right_slot_of_every_pool()
    {
        await using var harness = await CdcHarness.CreateAsync(servers);
        var publisher = await harness.StartLeaderAsync();
        var users = Enumerable.Range(1, 40).Select(u => (ulong)u * 1_000_003).ToArray();

        foreach (var user in users)
        {
            await harness.Storage.Writer.WriteAsync(user, 3, [new StoredRead(user + 1, 0), new StoredRead(user + 2, 0)]).DefaultTimeout();
        }

        foreach (var (pool, slots) in new[] { ("feed", 4), ("push", 3) })
        {
            await harness.WaitForChangesAsync(pool, publisher.Epoch, c => c.Count >= users.Length * 2, pool + " has every row");
            var found = await harness.AllChangesAsync(pool, publisher.Epoch);
            Assert.Equal(users.Length * 2, found.Count);
            foreach (var (slot, change) in found)
            {
                Assert.Equal(JumpConsistentHash.Bucket(change.UserId, slots), slot);
                Assert.Equal(StreamChangeKind.Upsert, change.Kind);
                Assert.Equal((ushort)3, change.ContentType);
                Assert.Contains(change.UserId, users);
                Assert.True(change.ContentId == change.UserId + 1 || change.ContentId == change.UserId + 2);
            }
        }

        Assert.Equal(users.Length * 2, publisher.Metrics.RowsPublished);
    }

    [Fact]
    public async Task Deletes_come_out_as_deletes_and_other_tables_are_ignored()
    {
        await using var harness = await CdcHarness.CreateAsync(servers, [("default", 1)]);
        var publisher = await harness.StartLeaderAsync();

        await harness.InsertAsync(77, 1, 10, 11, 12);
        await harness.Storage.Server.SqlAsync($"CREATE TABLE `{harness.Storage.Options.DatabasePrefix}_0`.`other` (user_id BIGINT UNSIGNED, content_type SMALLINT UNSIGNED, content_id BIGINT UNSIGNED); INSERT INTO `{harness.Storage.Options.DatabasePrefix}_0`.`other` VALUES (5, 5, 5);");
        await harness.Storage.Store.ForgetAsync(77).DefaultTimeout();

        var changes = await harness.WaitForChangesAsync("default", publisher.Epoch, c => c.Count >= 6, "inserts and deletes arrive");
        Assert.Equal(
            [(10UL, StreamChangeKind.Upsert), (11UL, StreamChangeKind.Upsert), (12UL, StreamChangeKind.Upsert), (10UL, StreamChangeKind.Delete), (11UL, StreamChangeKind.Delete), (12UL, StreamChangeKind.Delete)],
            changes.Select(c => (c.ContentId, c.Kind)));
        Assert.All(changes, c => Assert.Equal(77UL, c.UserId));
    }

    [Fact]
    public async Task A_restart_from_the_checkpoint_loses_nothing_and_repeats_nothing()
    {
        await using var harness = await CdcHarness.CreateAsync(servers, [("default", 2)]);
        var first = await harness.StartLeaderAsync();
        var epoch = first.Epoch;
        await harness.InsertAsync(1, 1, 100, 101);
        await harness.WaitForChangesAsync("default", epoch, c => c.Count >= 2, "the first rows are published");
        await first.DisposeAsync().AsTask().DefaultTimeout();

        await harness.InsertAsync(2, 1, 200, 201);
        var second = await harness.StartLeaderAsync();
        await harness.InsertAsync(3, 1, 300);

        var changes = await harness.WaitForChangesAsync("default", epoch, c => c.Any(x => x.ContentId == 300), "rows after the restart are published");
        Assert.Equal(epoch, second.Epoch);
        Assert.Equal(new ulong[] { 100, 101, 200, 201, 300 }, changes.Select(c => c.ContentId).Order());
    }

    [Fact]
    public async Task A_standby_takes_over_within_the_lease_time_when_the_leader_dies()
    {
        await using var harness = await CdcHarness.CreateAsync(servers, [("default", 1)]);
        var leader = await harness.StartLeaderAsync();
        leader.ReleaseLeaseOnStop = false; // die as a crash would: the lease must expire
        var standby = harness.CreatePublisher();
        await standby.StartAsync(CancellationToken.None);
        await harness.InsertAsync(1, 1, 1);
        await harness.WaitForChangesAsync("default", leader.Epoch, c => c.Count >= 1, "the leader publishes");
        await Task.Delay(300);
        Assert.False(standby.IsLeader);

        await leader.DisposeAsync().AsTask().DefaultTimeout();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await harness.InsertAsync(2, 1, 2);
        await Poll.UntilAsync(() => standby.IsLeader, "the standby leads");
        var takeover = clock.Elapsed;

        var changes = await harness.WaitForChangesAsync("default", leader.Epoch, c => c.Any(x => x.UserId == 2), "the row written while nobody led arrives");
        Assert.Equal(leader.Epoch, standby.Epoch);
        // The lease, one poll, and a wide margin for a loaded machine: what is checked is that the standby takes over once
        // the lease expired, not how fast it does.
        Assert.True(takeover < harness.Options.LeaseTime + harness.Options.StandbyPollInterval + TimeSpan.FromSeconds(10), $"took over after {takeover}");
        Assert.Equal(new ulong[] { 1, 2 }, changes.Select(c => c.UserId).Distinct().Order());
    }

    [Fact]
    public async Task A_leader_whose_redis_calls_time_out_leads_again_once_redis_answers()
    {
        // Its own connection times out after 300 ms (a frozen Redis answers nothing), so the 3 s freeze makes lease
        // renewals and then lease acquisitions time out (RedisTimeoutException is a TimeoutException, not a
        // RedisException): the publisher must stand down and stay a candidate, not stop for good.
        // Declared first, so disposed after the harness has stopped the publisher using it.
        var connection = await CdcHarness.ConnectAsync(StackExchange.Redis.ConfigurationOptions.Parse(servers.Redis.Endpoint + ",abortConnect=false,connectRetry=10,asyncTimeout=300,syncTimeout=300"));
        await using var _ = connection;
        await using var harness = await CdcHarness.CreateAsync(servers, [("default", 1)]);
        var publisher = harness.CreatePublisher(connection);
        await publisher.StartAsync(CancellationToken.None);
        await Poll.UntilAsync(() => publisher.IsLeader && publisher.Epoch != 0, "the publisher leads");
        var epoch = publisher.Epoch;

        var pid = servers.Redis.ProcessId;
        await ChildProcess.SignalAsync(pid, "STOP");
        try
        {
            await Poll.UntilAsync(() => !publisher.IsLeader, "the leader stands down while Redis answers nothing", TimeSpan.FromSeconds(30));
            await Task.Delay(TimeSpan.FromSeconds(1)); // a few lease attempts time out too (nothing to poll for)
        }
        finally
        {
            await ChildProcess.SignalAsync(pid, "CONT");
        }

        await Poll.UntilAsync(() => publisher.IsLeader, "the publisher leads again", TimeSpan.FromSeconds(30));
        await harness.InsertAsync(5, 1, 55);
        var changes = await harness.WaitForChangesAsync("default", epoch, c => c.Any(x => x.ContentId == 55), "a row written after the freeze is published");
        Assert.Equal(epoch, publisher.Epoch);
        Assert.Contains(changes, c => c.UserId == 5);
    }

    [Fact]
    public async Task A_leader_whose_lease_was_taken_by_a_newer_leader_cannot_publish()
    {
        await using var harness = await CdcHarness.CreateAsync(servers, [("default", 2)]);
        var leader = await harness.StartLeaderAsync();
        await harness.InsertAsync(1, 1, 1);
        await harness.WaitForChangesAsync("default", leader.Epoch, c => c.Count >= 1, "the leader publishes");
        var db = harness.Redis.GetDatabase();

        await harness.StealLeaseAsync("999999-thief", TimeSpan.FromSeconds(30), leader.Epoch);
        await harness.InsertAsync(2, 1, 2);
        await Poll.UntilAsync(() => !leader.IsLeader, "the stale leader stands down");
        await Task.Delay(500);

        var changes = await harness.AllChangesAsync("default", leader.Epoch);
        Assert.DoesNotContain(changes, c => c.Change.UserId == 2);
        Assert.Equal("999999-thief", (string?)await db.StringGetAsync(harness.Keys.Lease).DefaultTimeout());
    }

    [Fact]
    public async Task The_fenced_publish_refuses_a_token_older_than_one_the_slot_has_seen_atomically()
    {
        await using var harness = await CdcHarness.CreateAsync(servers, [("default", 1)]);
        var store = new CdcRedisStore(harness.Redis.GetDatabase(), harness.Keys);
        var slot = harness.Keys.Slot("default", 0);
        var stale = await store.TryAcquireLeaseAsync(TimeSpan.FromMilliseconds(200)).DefaultTimeout();
        Assert.NotNull(stale);
        Assert.Equal(0, await store.PublishAsync(stale!, slot, 5, setEpoch: true, 0, null, 1000).DefaultTimeout());
        // Gate: the stale token's 200 ms lease has expired once a new one can be taken.
        var current = await Poll.UntilAsync(() => store.TryAcquireLeaseAsync(TimeSpan.FromSeconds(10)), static lease => lease is not null, "the stale lease to expire");

        var accepted = await store.PublishAsync(current!, slot, 5, setEpoch: false, 0, ChangeBatch.Create(5, 0, "0-1-2", [new(1, 1, 2, StreamChangeKind.Upsert)]), 1000).DefaultTimeout();
        var refused = await store.PublishAsync(stale!, slot, 5, setEpoch: false, 0, ChangeBatch.Create(5, 0, "0-1-9", [new(1, 1, 1, StreamChangeKind.Upsert)]), 1000).DefaultTimeout();
        var staleCheckpoint = await store.WriteCheckpointAsync(stale!, new CdcCheckpoint("0-1-9", [1])).DefaultTimeout();
        var checkpoint = await store.WriteCheckpointAsync(current!, new CdcCheckpoint("0-1-2", [1])).DefaultTimeout();

        Assert.Equal(1, accepted);
        Assert.Equal(CdcRedisStore.LeaseLost, refused);
        Assert.False(staleCheckpoint);
        Assert.True(checkpoint);
        Assert.NotEqual(stale, current);
        Assert.Equal(new CdcCheckpoint("0-1-2", [1]).Format(), (await store.ReadCheckpointAsync().DefaultTimeout())!.Format());
        Assert.Equal(1L, await harness.Redis.GetDatabase().StreamLengthAsync(slot.Stream).DefaultTimeout());
    }

    [Fact]
    public async Task A_slot_holding_fewer_publishes_than_the_publisher_made_refuses_the_next_and_the_reader_sees_the_cursor_gone()
    {
        // What a failover to a lagging replica leaves behind, made by hand: the last two entries and their count are gone.
        await using var harness = await CdcHarness.CreateAsync(servers, [("default", 1)]);
        var store = new CdcRedisStore(harness.Redis.GetDatabase(), harness.Keys);
        var db = harness.Redis.GetDatabase();
        var slot = harness.Keys.Slot("default", 0);
        var token = (await store.TryAcquireLeaseAsync(TimeSpan.FromSeconds(30)).DefaultTimeout())!;
        await store.PublishAsync(token, slot, 5, setEpoch: true, 0, null, 1000).DefaultTimeout();
        for (ulong i = 1; i <= 3; i++)
        {
            Assert.Equal((long)i, await store.PublishAsync(token, slot, 5, setEpoch: false, (long)i - 1, ChangeBatch.Create(5, 0, "0-1-" + i, [new(1, 1, i, StreamChangeKind.Upsert)]), 1000).DefaultTimeout());
        }

        var entries = await db.StreamRangeAsync(slot.Stream).DefaultTimeout();
        var reader = harness.Reader("default", 0);
        var cursor = new StreamCursor(5, (string)entries[2].Id!);
        await db.StreamDeleteAsync(slot.Stream, [entries[1].Id, entries[2].Id]).DefaultTimeout();
        await db.HashSetAsync(slot.State, SlotKeys.SeqField, 1).DefaultTimeout();

        var refused = await store.PublishAsync(token, slot, 5, setEpoch: false, 3, ChangeBatch.Create(5, 0, "0-1-4", [new(1, 1, 4, StreamChangeKind.Upsert)]), 1000).DefaultTimeout();
        var updates = await reader.ReadAsync(cursor).DefaultTimeout();

        Assert.Equal(CdcRedisStore.RolledBack, refused);
        Assert.Equal(1L, await db.StreamLengthAsync(slot.Stream).DefaultTimeout());
        var gap = Assert.Single(updates);
        Assert.True(gap.IsGap);
        Assert.Contains("cursor is gone", gap.GapReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_truncated_history_table_starts_a_new_epoch_and_readers_see_a_gap()
    {
        await using var harness = await CdcHarness.CreateAsync(servers, [("default", 1)]);
        var publisher = await harness.StartLeaderAsync();
        var reader = harness.Reader("default", 0);
        var cursor = await reader.GetTailCursorAsync().DefaultTimeout();
        var before = publisher.Epoch;
        await harness.InsertAsync(5, 1, 1);
        await harness.WaitForChangesAsync("default", before, c => c.Count >= 1, "the insert arrives");

        await harness.Storage.Server.SqlAsync($"TRUNCATE TABLE {harness.Storage.TableOf(5)};");
        await Poll.UntilAsync(() => publisher.Epoch != before, "the epoch changes");

        var updates = new List<StreamUpdate>();
        for (var i = 0; i < 10 && !updates.Any(u => u.IsGap); i++)
        {
            var read = await reader.ReadAsync(cursor).DefaultTimeout();
            updates.AddRange(read);
            cursor = read.Count > 0 ? read[^1].Cursor : cursor;
        }

        Assert.Contains(updates, u => u.IsGap && u.GapReason!.Contains("epoch changed", StringComparison.Ordinal));
        Assert.Equal(publisher.Epoch, cursor.Epoch);
    }

    [Fact]
    public async Task A_redis_restart_with_wiped_data_starts_a_new_epoch_the_reader_reports_as_a_gap()
    {
        await using var harness = await CdcHarness.CreateAsync(servers, [("default", 2)]);
        var publisher = await harness.StartLeaderAsync();
        var before = publisher.Epoch;
        await harness.InsertAsync(1, 1, 1);
        await harness.WaitForChangesAsync("default", before, c => c.Count >= 1, "the insert arrives");
        var reader = harness.Reader("default", JumpConsistentHash.Bucket(9, 2));
        var cursor = await reader.GetTailCursorAsync().DefaultTimeout();
        Assert.Equal(before, cursor.Epoch);

        await servers.Redis.RestartAsync(wipeData: true).DefaultTimeout();
        await Poll.UntilAsync(() => publisher.IsLeader && publisher.Epoch != before, "the publisher leads a new epoch", TimeSpan.FromSeconds(60));
        StreamUpdate? gap = null;
        await Poll.UntilAsync(async () =>
        {
            foreach (var update in await reader.ReadAsync(cursor))
            {
                cursor = update.Cursor;
                gap ??= update.IsGap ? update : null;
            }

            return gap is not null;
        }, "the reader reports the gap");
        Assert.Equal(publisher.Epoch, cursor.Epoch);

        await harness.InsertAsync(9, 1, 99);
        var after = new List<StreamChange>();
        await Poll.UntilAsync(async () =>
        {
            foreach (var update in await reader.ReadAsync(cursor))
            {
                Assert.False(update.IsGap, update.GapReason);
                cursor = update.Cursor;
                update.Batch!.CopyTo(after);
            }

            return after.Any(c => c.ContentId == 99);
        }, "the new epoch's changes follow the gap");

        Assert.NotEqual(before, publisher.Epoch);
        Assert.Equal(publisher.Epoch, cursor.Epoch);
    }

    [Fact]
    public async Task A_checkpoint_in_purged_binlogs_starts_a_new_epoch_from_the_current_position()
    {
        await using var harness = await CdcHarness.CreateAsync(servers, [("default", 1)]);
        await new CdcRedisStore(harness.Redis.GetDatabase(), harness.Keys).SeedAsync(5, "0-1-1", harness.AllSlots).DefaultTimeout();
        var status = await harness.Storage.Server.SqlAsync("FLUSH BINARY LOGS; SHOW MASTER STATUS;");
        await Poll.UntilAsync(async () =>
        {
            // A file still read by a lingering dump thread (an earlier test's publisher) is not purged at once.
            await harness.Storage.Server.SqlAsync($"PURGE BINARY LOGS TO '{status.Split('\t')[0].Trim()}';");
            return (await harness.Storage.Server.SqlAsync("SHOW BINARY LOGS;")).Trim().Split('\n').Length == 1;
        }, "the older binlog files are purged");

        var publisher = harness.CreatePublisher();
        await publisher.StartAsync(CancellationToken.None);
        await Poll.UntilAsync(() => publisher.Epoch is not 0 and not 5, "a new epoch starts");
        await harness.InsertAsync(3, 1, 33);

        var changes = await harness.WaitForChangesAsync("default", publisher.Epoch, c => c.Count >= 1, "rows flow in the new epoch");
        Assert.Equal(33UL, Assert.Single(changes).ContentId);
    }
}
