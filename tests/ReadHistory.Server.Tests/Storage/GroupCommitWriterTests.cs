using Microsoft.Extensions.Logging.Abstractions;
using ReadHistory.Core.Routing;
using MySqlConnector;
using ReadHistory.Server.Storage;
using ReadHistory.TestSupport;
using Xunit;
using ReadHistory.TestSupport.Server;

namespace ReadHistory.Server.Tests.Storage;

public sealed class GroupCommitWriterTests
{
    private readonly ManualTimeProvider _time = new();
    private readonly FakeShardFlusher _flusher = new();
    private readonly StorageMetrics _metrics = new();

    private GroupCommitWriter Writer(int maxRows = 100, int maxQueued = 10_000, int concurrency = 2, int shards = 1, TimeSpan? maxQueueDelay = null) =>
        new(ShippedDefaults.Database(o =>
        {
            o.GroupCommitMaxQueueDelay = maxQueueDelay ?? TimeSpan.Zero;
            o.GroupCommitMaxRows = maxRows;
            o.GroupCommitMaxDelay = TimeSpan.FromMilliseconds(5);
            o.GroupCommitMaxQueuedRows = maxQueued;
            o.GroupCommitConcurrencyPerShard = concurrency;
            o.GroupCommitRetryDelay = TimeSpan.Zero;
            o.GroupCommitMaxRetries = 3;
        }), new ShardMap(shards, 1), _flusher, _time, NullLogger.Instance, _metrics);

    private static StoredRead[] Items(params ulong[] ids) => [.. ids.Select(id => new StoredRead(id, 1_700_000_000_000))];

    [Fact]
    public async Task A_write_waits_for_the_time_bound_and_is_acknowledged_after_the_flush()
    {
        await using var writer = Writer();
        var write = writer.WriteAsync(7, 1, Items(1, 2, 3));

        // Gate: the shard's queue armed its flush timer on the manual clock, which does not move until told.
        await Poll.UntilAsync(() => _time.ArmedTimers == 1, "the writer to arm its flush timer");
        Assert.False(write.IsCompleted);
        Assert.Equal(0, _flusher.Calls);

        _time.Advance(TimeSpan.FromMilliseconds(5));
        await write.DefaultTimeout();
        Assert.Equal([1UL, 2, 3], _flusher.AllRows().Select(r => r.ContentId));
    }

    [Fact]
    public async Task A_full_batch_flushes_without_waiting_for_the_clock()
    {
        await using var writer = Writer(maxRows: 4);
        var first = writer.WriteAsync(7, 1, Items(1, 2));
        var second = writer.WriteAsync(7, 1, Items(3, 4));

        await Task.WhenAll(first, second).DefaultTimeout();
        Assert.Single(_flusher.Batches);
        Assert.Equal(4, _flusher.Batches[0].Rows.Length);
    }

    [Fact]
    public async Task A_caller_is_not_acknowledged_before_its_rows_are_committed()
    {
        var commit = new TaskCompletionSource();
        _flusher.Hold = commit.Task;
        await using var writer = Writer(maxRows: 1);
        var write = writer.WriteAsync(7, 1, Items(1));
        try
        {
            // Gate: the flush has reached the flusher, which holds it until the commit is released.
            await Poll.UntilAsync(() => Volatile.Read(ref _flusher.Calls) == 1, "the flush to reach the flusher");
            Assert.False(write.IsCompleted);
        }
        finally
        {
            // Released whatever happened: disposing the writer waits for the held flush.
            commit.TrySetResult();
        }

        await write.DefaultTimeout();
    }

    [Fact]
    public async Task Batches_are_sorted_by_primary_key_and_repeated_keys_keep_the_latest_read()
    {
        await using var writer = Writer();
        var a = writer.WriteAsync(9, 2, [new StoredRead(30, 5_000), new StoredRead(10, 1_000)]);
        var b = writer.WriteAsync(9, 1, [new StoredRead(10, 9_000)]);
        var c = writer.WriteAsync(9, 2, [new StoredRead(30, 7_000)]);
        _time.Advance(TimeSpan.FromMilliseconds(5));
        await Task.WhenAll(a, b, c).DefaultTimeout();

        Assert.Equal(
            [new HistoryRow(9, 1, 10, 9), new HistoryRow(9, 2, 10, 1), new HistoryRow(9, 2, 30, 7)],
            _flusher.AllRows());
    }

    [Fact]
    public async Task A_read_time_of_zero_means_now()
    {
        await using var writer = Writer(maxRows: 1);
        await writer.WriteAsync(9, 1, [new StoredRead(5, 0)]).DefaultTimeout();

        Assert.Equal((uint)_time.GetUtcNow().ToUnixTimeSeconds(), _flusher.AllRows()[0].ReadAt);
    }

    [Fact]
    public async Task A_full_queue_refuses_a_write_at_once_and_accepts_again_after_draining()
    {
        var commit = new TaskCompletionSource();
        _flusher.Hold = commit.Task;
        await using var writer = Writer(maxRows: 10, maxQueued: 5);
        var accepted = writer.WriteAsync(7, 1, Items(1, 2, 3, 4));
        try
        {
            var refused = Assert.Throws<StorageOverloadedException>(() => { _ = writer.WriteAsync(7, 1, Items(5, 6)); });
            Assert.True(refused.RetryAfter > TimeSpan.Zero);
        }
        finally
        {
            commit.TrySetResult();
        }

        _time.Advance(TimeSpan.FromMilliseconds(5));
        await accepted.DefaultTimeout();
        Assert.Equal(0, writer.QueuedRows);
        var again = writer.WriteAsync(7, 1, Items(5, 6));
        _time.Advance(TimeSpan.FromMilliseconds(5));
        await again.DefaultTimeout();
    }

    [Fact]
    public async Task A_write_is_refused_at_once_while_the_oldest_queued_write_of_its_shard_has_waited_past_the_bound_and_accepted_once_it_drains()
    {
        var commit = new TaskCompletionSource();
        _flusher.Hold = commit.Task;
        await using var writer = Writer(maxRows: 2, concurrency: 1, shards: 2, maxQueueDelay: TimeSpan.FromMilliseconds(100));
        // Users 1 and 2 live on different shards of two: find one of each.
        var map = new ShardMap(2, 1);
        var (slow, other) = (1UL, Enumerable.Range(2, 10).Select(static u => (ulong)u).First(u => map.ShardOf(u) != map.ShardOf(1)));
        Task flushing, queued, young, elsewhere;
        try
        {
            flushing = writer.WriteAsync(slow, 1, Items(1, 2)); // a full batch: its flush starts and is held
            await Poll.UntilAsync(() => _flusher.Calls == 1, "the first flush to start");
            queued = writer.WriteAsync(slow, 1, Items(3)); // waits behind it (one flush at a time)
            _time.Advance(TimeSpan.FromMilliseconds(60));
            young = writer.WriteAsync(slow, 1, Items(4)); // the oldest has waited 60 ms: still accepted
            _time.Advance(TimeSpan.FromMilliseconds(41));

            var refused = Assert.Throws<StorageOverloadedException>(() => { _ = writer.WriteAsync(slow, 1, Items(5)); });
            Assert.Contains("GroupCommitMaxQueueDelay", refused.Message, StringComparison.Ordinal);
            Assert.Contains("waited 101 ms", refused.Message, StringComparison.Ordinal);
            Assert.True(refused.RetryAfter >= TimeSpan.FromMilliseconds(20));
            Assert.Equal(1, _metrics.RefusedForDelay.Value);
            Assert.Equal(4, writer.QueuedRows); // the refused row was never counted

            // The other shard's queue is not behind: its writes are taken (and held with the rest: the fake flusher
            // holds every flush).
            elsewhere = writer.WriteAsync(other, 1, Items(6));
        }
        finally
        {
            // The database answers again (also when an assertion failed, so that disposing the writer drains).
            commit.TrySetResult();
            _time.Advance(TimeSpan.FromMilliseconds(5));
        }

        // The backlog drains and the shard takes writes again.
        await Task.WhenAll(flushing, queued, young, elsewhere).DefaultTimeout();
        var again = writer.WriteAsync(slow, 1, Items(5));
        _time.Advance(TimeSpan.FromMilliseconds(5));
        await again.DefaultTimeout();
        Assert.Equal(1, _metrics.RefusedForDelay.Value);
    }

    [Fact]
    public async Task A_bulk_write_at_the_delay_bound_waits_for_the_next_flush_instead_of_being_refused()
    {
        var commit = new TaskCompletionSource();
        _flusher.Hold = commit.Task;
        await using var writer = Writer(maxRows: 2, concurrency: 1, maxQueueDelay: TimeSpan.FromMilliseconds(100));
        Task flushing, queued, bulk;
        try
        {
            flushing = writer.WriteAsync(7, 1, Items(1, 2));
            await Poll.UntilAsync(() => _flusher.Calls == 1, "the first flush to start");
            queued = writer.WriteAsync(7, 1, Items(3));
            _time.Advance(TimeSpan.FromMilliseconds(101));
            using (GroupCommitWriter.BulkScope())
            {
                bulk = writer.WriteAsync(7, 1, Items(4)); // an Ingest stream's write: not refused
            }

            // Outside the scope the same write is refused again.
            Assert.Throws<StorageOverloadedException>(() => { _ = writer.WriteAsync(7, 1, Items(5)); });
            Assert.False(bulk.IsCompleted);
            Assert.Equal(1, _metrics.RefusedForDelay.Value);
        }
        finally
        {
            commit.TrySetResult();
            _time.Advance(TimeSpan.FromMilliseconds(5));
        }

        // The held flush ends, the next takes the backlog, and the waiting bulk write is queued and committed. It is
        // queued on its own continuation, possibly after the flushes ended: then it waits out the delay timer on the
        // manual clock, which moves only when told.
        await Poll.UntilAsync(() =>
        {
            _time.Advance(TimeSpan.FromMilliseconds(5));
            return bulk.IsCompleted;
        }, "the bulk write to be queued and committed");
        await Task.WhenAll(flushing, queued, bulk).DefaultTimeout();
        await Poll.UntilAsync(() => _flusher.AllRows().Any(static r => r.ContentId == 4), "the bulk write's row to be committed");
        Assert.Equal(0, writer.QueuedRows);
    }

    [Fact]
    public async Task Without_a_delay_bound_a_write_queued_behind_a_stalled_flush_is_accepted_however_long_the_oldest_waited()
    {
        var commit = new TaskCompletionSource();
        _flusher.Hold = commit.Task;
        await using var writer = Writer(maxRows: 2, concurrency: 1);
        var flushing = writer.WriteAsync(7, 1, Items(1, 2));
        await Poll.UntilAsync(() => _flusher.Calls == 1, "the first flush to start");
        var queued = writer.WriteAsync(7, 1, Items(3));
        _time.Advance(TimeSpan.FromSeconds(10));
        var late = writer.WriteAsync(7, 1, Items(4));
        commit.TrySetResult();
        _time.Advance(TimeSpan.FromMilliseconds(5));
        await Task.WhenAll(flushing, queued, late).DefaultTimeout();
        Assert.Equal(0, _metrics.RefusedForDelay.Value);
    }

    [Fact]
    public async Task A_deadlock_is_retried_and_the_write_succeeds()
    {
        _flusher.Fail = static (_, _, call) => call == 1 ? MySqlErrors.Create(MySqlErrorCode.LockDeadlock, "40001", "Deadlock found") : null;
        await using var writer = Writer(maxRows: 1);

        await writer.WriteAsync(7, 1, Items(1)).DefaultTimeout();

        Assert.Equal(2, _flusher.Calls);
        Assert.Single(_flusher.Batches);
    }

    [Fact]
    public async Task Transient_errors_past_the_retry_budget_fail_the_write()
    {
        _flusher.Fail = static (_, _, _) => MySqlErrors.ConnectionLost("lost");
        await using var writer = Writer(maxRows: 1);

        var error = await Assert.ThrowsAsync<StorageWriteException>(() => writer.WriteAsync(7, 1, Items(1)).DefaultTimeout());
        Assert.Contains("lost", error.Message, StringComparison.Ordinal);
        Assert.Equal(4, _flusher.Calls);
    }

    [Fact]
    public async Task A_permanent_error_fails_exactly_the_write_it_belongs_to()
    {
        _flusher.Fail = static (_, rows, _) => rows.Any(r => r.ContentId == 666)
            ? MySqlErrors.Create(MySqlErrorCode.NoSuchTable, "42S02", "Table doesn't exist")
            : null;
        await using var writer = Writer();
        var good1 = writer.WriteAsync(7, 1, Items(1, 2));
        var bad = writer.WriteAsync(8, 1, Items(3, 666));
        var good2 = writer.WriteAsync(9, 1, Items(4));
        _time.Advance(TimeSpan.FromMilliseconds(5));

        await Task.WhenAll(good1, good2).DefaultTimeout();
        var error = await Assert.ThrowsAsync<StorageWriteException>(() => bad.DefaultTimeout());
        Assert.Contains("doesn't exist", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(666UL, _flusher.AllRows().Select(r => r.ContentId));
        Assert.Equal([1UL, 2, 4], _flusher.AllRows().Select(r => r.ContentId).Order().ToArray());
    }

    [Fact]
    public async Task Flushes_per_shard_never_exceed_the_concurrency_bound()
    {
        var commit = new TaskCompletionSource();
        _flusher.Hold = commit.Task;
        await using var writer = Writer(maxRows: 1, concurrency: 2);
        var writes = Enumerable.Range(1, 10).Select(i => writer.WriteAsync(7, 1, Items((ulong)i))).ToArray();
        try
        {
            // Two flushes start; a third would start in the next moments if the bound leaked, so look again after a
            // pause (the writer offers no signal for "a batch is waiting for a flush slot").
            await Poll.UntilAsync(() => Volatile.Read(ref _flusher.Calls) >= 2, "two flushes to start");
            await Task.Delay(100);
            Assert.Equal(2, _flusher.Calls);
        }
        finally
        {
            // Released whatever happened: disposing the writer waits for the held flushes.
            commit.TrySetResult();
        }

        await Task.WhenAll(writes).DefaultTimeout();
        Assert.Equal(2, _flusher.MaxConcurrent);
        Assert.Equal(10, _flusher.AllRows().Length);
    }

    [Fact]
    public async Task Shards_are_flushed_to_their_own_tables()
    {
        var map = new ShardMap(4, 1);
        await using var writer = Writer(maxRows: 1, shards: 4);
        var users = Enumerable.Range(1, 40).Select(i => (ulong)i).ToArray();

        await Task.WhenAll(users.Select(u => writer.WriteAsync(u, 1, Items(u)))).DefaultTimeout();

        Assert.All(_flusher.Batches, b => Assert.All(b.Rows, r => Assert.Equal(map.ShardOf(r.UserId), b.Shard)));
    }

    [Fact]
    public async Task Dispose_flushes_what_is_queued_and_then_refuses_writes()
    {
        var writer = Writer();
        var write = writer.WriteAsync(7, 1, Items(1));

        await writer.DisposeAsync().AsTask().DefaultTimeout();

        await write.DefaultTimeout();
        Assert.Throws<ObjectDisposedException>(() => { _ = writer.WriteAsync(7, 1, Items(2)); });
    }

    [Fact]
    public void Invalid_input_is_refused()
    {
        var writer = Writer();
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = writer.WriteAsync(0, 1, Items(1)); });
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = writer.WriteAsync(1, 1, Items(0)); });
    }
}
