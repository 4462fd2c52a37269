using Microsoft.Extensions.Logging.Abstractions;
using ReadHistory.Core.Filters;
using ReadHistory.Core.Routing;
using ReadHistory.Server.Cache;
using ReadHistory.Server.Tests.Storage;
using Xunit;
using static ReadHistory.TestSupport.Server.CacheTestKit;
using ReadHistory.Server.Storage;
using ReadHistory.TestSupport.Server;
using ReadHistory.TestSupport;

namespace ReadHistory.Server.Tests.Cache;

public sealed class ReadThroughCacheTests
{
    [Fact]
    public async Task A_miss_answers_from_a_point_query_and_the_rebuilt_filter_answers_the_next_check()
    {
        var db = new InMemoryHistorySource();
        db.Seed(1, 2, 100);
        db.Seed(1, 3, 200); // another content type of the same user, same filter
        await using var node = NewNode(db);

        var (missBitmap, miss) = await CheckAsync(node, 1, 2, 100, 101);
        await WaitForRebuildsAsync(node);
        var (hitBitmap, hit) = await CheckAsync(node, 1, 2, 100, 101);
        var (otherType, _) = await CheckAsync(node, 1, 3, 200, 100);

        Assert.Equal(new CheckResult(1, CheckSource.Database), miss);
        Assert.Equal(new CheckResult(1, CheckSource.Memory), hit);
        Assert.Equal(missBitmap, hitBitmap);
        Assert.True(IsSet(otherType, 0));
        Assert.Equal(1, db.PointQueries);
        Assert.Equal(1, db.Scans);
    }

    [Fact]
    public async Task Concurrent_misses_of_one_user_share_one_rebuild()
    {
        var db = new InMemoryHistorySource { ScanGate = new(TaskCreationOptions.RunContinuationsAsynchronously) };
        db.Seed(1, 0, 5);
        await using var node = NewNode(db);

        var checks = Enumerable.Range(0, 32).Select(_ => Task.Run(() => CheckAsync(node, 1, 0, 5, 6))).ToArray();
        var answers = await Task.WhenAll(checks).DefaultTimeout();
        await db.ScanReachedGate.Task.DefaultTimeout();
        db.ScanGate.SetResult();
        await WaitForRebuildsAsync(node);

        Assert.All(answers, a => Assert.Equal(new CheckResult(1, CheckSource.Database), a.Result));
        Assert.Equal(1, db.Scans);
        Assert.Equal(1, db.Counts);
        Assert.Equal(32, db.PointQueries);
        Assert.Equal(CheckSource.Memory, (await CheckAsync(node, 1, 0, 5)).Result.Source);
    }

    [Fact]
    public async Task A_write_committed_during_the_scan_is_in_the_installed_filter()
    {
        var db = new InMemoryHistorySource { ScanGate = new(TaskCreationOptions.RunContinuationsAsynchronously) };
        db.Seed(1, 0, 5);
        await using var node = NewNode(db);
        await CheckAsync(node, 1, 0, 5);
        await db.ScanReachedGate.Task.DefaultTimeout();

        await MarkReadAsync(node, 1, 0, 77);
        node.ApplyChange(1, 0, 88, ChangeKind.Insert); // a change from the stream, committed by another node
        Assert.Equal(2, node.BufferedChanges);
        db.ScanGate.SetResult();
        await WaitForRebuildsAsync(node);
        var (bitmap, result) = await CheckAsync(node, 1, 0, 5, 77, 88);

        Assert.Equal(new CheckResult(0, CheckSource.Memory), result);
        Assert.Equal(0b111, bitmap[0]);
        Assert.Equal(0, node.BufferedChanges);
    }

    [Fact]
    public async Task MarkRead_sets_the_bits_of_a_held_filter_before_it_completes()
    {
        var db = new InMemoryHistorySource();
        await using var node = NewNode(db);
        await CheckAsync(node, 1, 0, 5);
        await WaitForRebuildsAsync(node);

        await MarkReadAsync(node, 1, 0, 5, 6);
        var (bitmap, result) = await CheckAsync(node, 1, 0, 5, 6, 7);

        Assert.Equal(new CheckResult(1, CheckSource.Memory), result);
        Assert.Equal(0b011, bitmap[0]);
        Assert.True(db.Contains(1, 0, 6));
    }

    [Fact]
    public async Task A_write_whose_caller_gave_up_mid_commit_still_sets_the_bits_once_committed()
    {
        var flusher = new FakeShardFlusher();
        var commit = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        flusher.Hold = commit.Task;
        await using var writer = new GroupCommitWriter(
            ShippedDefaults.Database(o => o.GroupCommitMaxDelay = TimeSpan.Zero), new ShardMap(1, 1), flusher, TimeProvider.System, NullLogger.Instance, new StorageMetrics());
        await using var node = NewNode(new GroupCommitHistorySource(new InMemoryHistorySource(), writer));
        await CheckAsync(node, 1, 0, 5);
        await WaitForRebuildsAsync(node);

        using var caller = new CancellationTokenSource();
        var write = node.MarkReadAsync(1, 0, new[] { new StoredRead(6, 0) }, passthrough: false, caller.Token);
        await Poll.UntilAsync(() => flusher.Calls == 1, "the commit to start");
        await caller.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => write.WaitAsync(TestTimeout.Default));
        commit.SetResult();
        await Poll.UntilAsync(() => writer.QueuedRows == 0, "the commit to finish");

        // No change stream runs here: only the write path itself can have set the bit.
        await Poll.UntilAsync(() => node.Filters.TryGet(1, out var entry) && entry.CheckMany(0, [6UL], new byte[1]) == 0, "the committed row to reach the filter");
        var (bitmap, result) = await CheckAsync(node, 1, 0, 6);
        Assert.Equal(new CheckResult(0, CheckSource.Memory), result);
        Assert.True(IsSet(bitmap, 0));
        Assert.Equal(6UL, Assert.Single(flusher.AllRows()).ContentId);
    }

    [Fact]
    public async Task A_write_cancelled_before_it_is_queued_writes_nothing()
    {
        var db = new InMemoryHistorySource();
        await using var node = NewNode(db);
        using var caller = new CancellationTokenSource();
        await caller.CancelAsync();

        var write = node.MarkReadAsync(1, 0, new[] { new StoredRead(6, 0) }, passthrough: false, caller.Token);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => write.WaitAsync(TestTimeout.Default));
        Assert.Equal(0, db.Writes);
    }

    [Fact]
    public async Task Forget_deletes_the_rows_and_drops_the_filter()
    {
        var db = new InMemoryHistorySource();
        db.Seed(1, 0, 5);
        await using var node = NewNode(db);
        await CheckAsync(node, 1, 0, 5);
        await WaitForRebuildsAsync(node);

        var removed = await node.ForgetAsync(1, passthrough: false, CancellationToken.None).DefaultTimeout();
        var (bitmap, result) = await CheckAsync(node, 1, 0, 5);

        Assert.Equal(1, removed);
        Assert.Equal(new CheckResult(1, CheckSource.Database), result);
        Assert.Equal(0, bitmap[0]);
    }

    [Fact]
    public async Task A_forget_cancelled_after_its_delete_began_still_drops_the_filter()
    {
        var db = new InMemoryHistorySource();
        db.Seed(1, 0, 5);
        await using var node = NewNode(new CancelledForgetSource(db));
        await CheckAsync(node, 1, 0, 5);
        await WaitForRebuildsAsync(node);

        await Assert.ThrowsAsync<OperationCanceledException>(() => node.ForgetAsync(1, passthrough: false, CancellationToken.None)).DefaultTimeout();
        var (bitmap, result) = await CheckAsync(node, 1, 0, 5);

        Assert.Equal(new CheckResult(1, CheckSource.Database), result);
        Assert.Equal(0, bitmap[0]);
    }

    [Fact]
    public async Task Forget_during_a_rebuild_abandons_it_so_the_old_rows_are_not_installed()
    {
        var db = new InMemoryHistorySource { ScanGate = new(TaskCreationOptions.RunContinuationsAsynchronously) };
        db.Seed(1, 0, 5);
        await using var node = NewNode(db);
        await CheckAsync(node, 1, 0, 5);
        await db.ScanReachedGate.Task.DefaultTimeout();

        await node.ForgetAsync(1, passthrough: false, CancellationToken.None).DefaultTimeout();
        db.ScanGate.SetResult();
        await WaitForRebuildsAsync(node);

        Assert.False(node.Filters.TryGet(1, out _));
        Assert.Equal(0, node.Metrics.Installs);
    }

    [Fact]
    public async Task A_failed_rebuild_is_retried_and_then_installs()
    {
        var db = new InMemoryHistorySource();
        db.Seed(1, 0, 5);
        db.FailNextScans(2);
        await using var node = NewNode(db);

        var (_, miss) = await CheckAsync(node, 1, 0, 5);
        await WaitForRebuildsAsync(node);

        Assert.Equal(CheckSource.Database, miss.Source);
        Assert.Equal(3, db.Scans);
        Assert.Equal(1, node.Metrics.Installs);
        Assert.Equal(CheckSource.Memory, (await CheckAsync(node, 1, 0, 5)).Result.Source);
    }

    [Fact]
    public async Task A_rebuild_that_keeps_failing_gives_up_and_the_user_stays_on_point_queries()
    {
        var db = new InMemoryHistorySource();
        db.Seed(1, 0, 5);
        db.FailNextScans(1_000);
        await using var node = NewNode(db);

        await CheckAsync(node, 1, 0, 5);
        await WaitForRebuildsAsync(node);
        var (bitmap, result) = await CheckAsync(node, 1, 0, 5);

        Assert.Equal(1, node.Metrics.Failures);
        Assert.Equal(new CheckResult(0, CheckSource.Database), result);
        Assert.Equal(1, bitmap[0]);
    }

    [Fact]
    public async Task A_user_too_large_for_the_filter_cap_is_answered_from_the_database_and_counted()
    {
        var db = new InMemoryHistorySource();
        for (ulong id = 1; id <= 20_000; id++)
        {
            db.Seed(1, 0, id);
        }

        var filter = new BloomFilterOptions { MaxBytes = 1024 };
        await using var node = NewNode(db, Options(filter: filter));

        await CheckAsync(node, 1, 0, 5);
        await WaitForRebuildsAsync(node);
        var (bitmap, result) = await CheckAsync(node, 1, 0, 5, 20_001);

        Assert.Equal(new CheckResult(1, CheckSource.Database), result);
        Assert.Equal(1, bitmap[0]);
        Assert.Equal(1, node.Metrics.CappedLookups);
        Assert.Equal(1, node.Filters.CappedUsers);
        Assert.Equal(0, db.Scans); // the count alone showed it would not fit
        Assert.Equal(0, node.RebuildsInFlight);
    }

    [Fact]
    public async Task Passthrough_answers_from_the_database_and_holds_nothing()
    {
        var db = new InMemoryHistorySource();
        db.Seed(1, 0, 5);
        await using var node = NewNode(db);

        var bitmap = new byte[1];
        var result = await node.CheckAsync(1, 0, new ulong[] { 5 }, bitmap, passthrough: true, CancellationToken.None).AsTask().DefaultTimeout();
        await node.MarkReadAsync(1, 0, new[] { new StoredRead(6, 0) }, passthrough: true, CancellationToken.None).DefaultTimeout();

        Assert.Equal(new CheckResult(0, CheckSource.Passthrough), result);
        Assert.Equal(0, node.RebuildsInFlight);
        Assert.Equal(0, node.Filters.Users);
        Assert.True(db.Contains(1, 0, 6));
    }

    [Fact]
    public async Task A_hit_touches_no_database_and_allocates_nothing()
    {
        var db = new InMemoryHistorySource();
        db.Seed(1, 0, 5);
        await using var node = NewNode(db);
        await CheckAsync(node, 1, 0, 5);
        await WaitForRebuildsAsync(node);
        var ids = Enumerable.Range(1, 400).Select(static i => (ulong)i).ToArray();
        var bitmap = new byte[50];
        ReadOnlyMemory<ulong> idMemory = ids;
        Memory<byte> bitmapMemory = bitmap;
        await node.CheckAsync(1, 0, idMemory, bitmapMemory, passthrough: false, CancellationToken.None); // warm up
        var queriesBefore = db.PointQueries;

        var before = GC.GetAllocatedBytesForCurrentThread();
        var pending = node.CheckAsync(1, 0, idMemory, bitmapMemory, passthrough: false, CancellationToken.None);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(pending.IsCompletedSuccessfully);
        Assert.Equal(CheckSource.Memory, (await pending).Source);
        Assert.Equal(0, allocated);
        Assert.Equal(queriesBefore, db.PointQueries);
    }

    [Fact]
    public async Task ApplyChange_sets_bits_for_held_users_and_drops_a_deleted_user()
    {
        var db = new InMemoryHistorySource();
        await using var node = NewNode(db);
        await CheckAsync(node, 1, 0, 5);
        await WaitForRebuildsAsync(node);

        node.ApplyChange(1, 0, 9, ChangeKind.Insert);
        node.ApplyChange(2, 0, 9, ChangeKind.Insert); // not held: ignored, rebuilt from the database later
        var (bitmap, _) = await CheckAsync(node, 1, 0, 9);
        node.ApplyChange(1, 0, 0, ChangeKind.DeleteUser);

        Assert.Equal(1, bitmap[0]);
        Assert.False(node.Filters.TryGet(1, out _));
        Assert.False(node.Filters.TryGet(2, out _));
    }

    [Fact]
    public async Task Rebuilds_run_at_most_the_configured_number_at_once()
    {
        var db = new InMemoryHistorySource { ScanGate = new(TaskCreationOptions.RunContinuationsAsynchronously) };
        await using var node = NewNode(db, Options(rebuildConcurrency: 2));

        for (ulong user = 1; user <= 6; user++)
        {
            await CheckAsync(node, user, 0, 1);
        }

        int scansWhileBlocked;
        try
        {
            await Poll.UntilAsync(() => db.Scans == 2, "two scans to start");
            await Task.Delay(50);
            scansWhileBlocked = db.Scans;
        }
        finally
        {
            // Released whatever happened, so that no rebuild is left parked at the gate when the node is disposed.
            db.ScanGate.TrySetResult();
        }

        await WaitForRebuildsAsync(node);

        Assert.Equal(2, scansWhileBlocked);
        Assert.Equal(6, db.Scans);
        Assert.Equal(6, node.Filters.Users);
    }
}
