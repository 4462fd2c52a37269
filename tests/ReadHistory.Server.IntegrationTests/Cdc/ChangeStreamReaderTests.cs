using ReadHistory.Server.Cdc;
using ReadHistory.TestSupport;
using StackExchange.Redis;
using Xunit;

namespace ReadHistory.Server.IntegrationTests.Cdc;

[Collection(CdcServersFixture.Collection)]
public sealed class ChangeStreamReaderTests(CdcServersFixture servers)
{
    [Fact]
    public async Task A_cursor_older_than_the_trimmed_stream_is_a_gap()
    {
        await using var harness = await CdcHarness.CreateAsync(servers, [("default", 1)]);
        var db = harness.Redis.GetDatabase();
        await db.HashSetAsync(harness.Keys.Slot("default", 0).State, SlotKeys.EpochField, CdcKeys.FormatEpoch(7)).DefaultTimeout();
        var stream = harness.Keys.Stream("default", 0);
        var firstId = (string?)await db.StreamAddAsync(stream, "data", ChangeBatch.Create(7, 0, "0-1-1", [new(1, 1, 1, StreamChangeKind.Upsert)])).DefaultTimeout();
        for (var i = 0; i < 5; i++)
        {
            await db.StreamAddAsync(stream, "data", ChangeBatch.Create(7, 0, "0-1-2", [new(1, 1, 2, StreamChangeKind.Upsert)])).DefaultTimeout();
        }

        await db.StreamTrimAsync(stream, 2).DefaultTimeout();
        var updates = await harness.Reader("default", 0).ReadAsync(new StreamCursor(7, firstId!)).DefaultTimeout();

        var gap = Assert.Single(updates);
        Assert.True(gap.IsGap);
        Assert.Contains("trimmed", gap.GapReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_reader_at_0_0_that_fell_more_than_the_stream_s_length_behind_reports_a_gap()
    {
        await using var harness = await CdcHarness.CreateAsync(servers, [("default", 1)]);
        var db = harness.Redis.GetDatabase();
        await db.HashSetAsync(harness.Keys.Slot("default", 0).State, SlotKeys.EpochField, CdcKeys.FormatEpoch(7)).DefaultTimeout();
        var reader = harness.Reader("default", 0);
        var cursor = await reader.GetTailCursorAsync().DefaultTimeout();
        Assert.Equal(new StreamCursor(7, StreamCursor.Beginning), cursor);

        // A node that started on the empty stream, then fell behind: more entries than MAXLEN were published since.
        for (ulong i = 1; i <= 12; i++)
        {
            await db.StreamAddAsync(reader.StreamKey, "data", ChangeBatch.Create(7, 0, "0-1-" + i, [new(1, 1, i, StreamChangeKind.Upsert)]), maxLength: 5, useApproximateMaxLength: false).DefaultTimeout();
        }

        var updates = await reader.ReadAsync(cursor).DefaultTimeout();

        var gap = Assert.Single(updates);
        Assert.True(gap.IsGap);
        Assert.Contains("trimmed", gap.GapReason, StringComparison.Ordinal);
        Assert.NotEqual(StreamCursor.Beginning, gap.Cursor.EntryId);
    }

    [Fact]
    public async Task A_reader_at_0_0_of_a_stream_never_trimmed_reads_every_entry_without_a_gap()
    {
        await using var harness = await CdcHarness.CreateAsync(servers, [("default", 1)]);
        var db = harness.Redis.GetDatabase();
        await db.HashSetAsync(harness.Keys.Slot("default", 0).State, SlotKeys.EpochField, CdcKeys.FormatEpoch(7)).DefaultTimeout();
        var reader = harness.Reader("default", 0);
        for (ulong i = 1; i <= 5; i++)
        {
            await db.StreamAddAsync(reader.StreamKey, "data", ChangeBatch.Create(7, 0, "0-1-" + i, [new(1, 1, i, StreamChangeKind.Upsert)]), maxLength: 5, useApproximateMaxLength: false).DefaultTimeout();
        }

        var updates = await reader.ReadAsync(new StreamCursor(7, StreamCursor.Beginning)).DefaultTimeout();

        Assert.All(updates, u => Assert.False(u.IsGap, u.GapReason));
        Assert.Equal([1UL, 2, 3, 4, 5], updates.Select(u => u.Batch![0].ContentId));
    }

    [Theory]
    [InlineData("0-0", null, 0L, false)]      // empty stream, nothing ever trimmed
    [InlineData("0-0", "5-0", 0L, false)]     // the first entry is the first ever written
    [InlineData("0-0", "5-0", 3L, true)]      // three entries before the first were trimmed
    [InlineData("0-0", null, 3L, true)]       // trimmed to nothing
    [InlineData("0-0", "5-0", -1L, true)]     // a server that does not count: assume the worst
    [InlineData("0-0", null, -1L, false)]
    [InlineData("4-0", "5-0", 3L, true)]      // the cursor is older than the first entry
    [InlineData("5-0", "5-0", 3L, false)]
    [InlineData("6-0", "5-0", 3L, false)]
    public void A_cursor_older_than_the_first_entry_is_trimmed_past_0_0_included(string cursor, string? first, long trimmed, bool gap) =>
        Assert.Equal(gap, ChangeStreamReader.TrimmedPast(cursor, first, trimmed));

    [Fact]
    public async Task A_corrupt_entry_is_a_gap_and_reading_goes_on_after_it()
    {
        await using var harness = await CdcHarness.CreateAsync(servers, [("default", 1)]);
        var db = harness.Redis.GetDatabase();
        await db.HashSetAsync(harness.Keys.Slot("default", 0).State, SlotKeys.EpochField, CdcKeys.FormatEpoch(7)).DefaultTimeout();
        var stream = harness.Keys.Stream("default", 0);
        await db.StreamAddAsync(stream, "data", new byte[] { 1, 2, 3 }).DefaultTimeout();
        await db.StreamAddAsync(stream, "data", ChangeBatch.Create(7, 0, "0-1-2", [new(4, 1, 2, StreamChangeKind.Upsert)])).DefaultTimeout();

        var updates = await harness.Reader("default", 0).ReadAsync(new StreamCursor(7, StreamCursor.Beginning)).DefaultTimeout();

        Assert.Equal(2, updates.Count);
        Assert.True(updates[0].IsGap);
        Assert.Equal(4UL, updates[1].Batch![0].UserId);
    }

    [Fact]
    public async Task Tailing_yields_batches_as_they_are_published()
    {
        await using var harness = await CdcHarness.CreateAsync(servers, [("default", 1)]);
        var publisher = await harness.StartLeaderAsync();
        var reader = harness.Reader("default", 0);
        var cursor = await reader.GetTailCursorAsync().DefaultTimeout();
        using var cts = new CancellationTokenSource(TestTimeout.Default);

        var tail = Task.Run(async () =>
        {
            var seen = new List<StreamChange>();
            await foreach (var update in reader.TailAsync(cursor, cts.Token))
            {
                Assert.False(update.IsGap, update.GapReason);
                update.Batch!.CopyTo(seen);
                if (seen.Count >= 30)
                {
                    return seen;
                }
            }

            return seen;
        });
        for (ulong i = 0; i < 30; i++)
        {
            await harness.InsertAsync(1, 1, i);
        }

        var seen = await tail.DefaultTimeout();
        Assert.Equal(Enumerable.Range(0, 30).Select(i => (ulong)i), seen.Select(c => c.ContentId));
        Assert.Equal(publisher.Epoch, cursor.Epoch);
    }

    [Fact]
    public async Task A_waiting_tail_wakes_on_a_new_entry_at_once_and_never_holds_the_shared_connection()
    {
        // A BLOCK far longer than the test may wait: only the wake-up on the new entry can deliver it in time.
        await using var harness = await CdcHarness.CreateAsync(servers, [("default", 1)], o => o.ReadPollInterval = TimeSpan.FromSeconds(5));
        var db = harness.Redis.GetDatabase();
        await db.HashSetAsync(harness.Keys.Slot("default", 0).State, SlotKeys.EpochField, CdcKeys.FormatEpoch(7)).DefaultTimeout();
        var reader = harness.Reader("default", 0);
        using var cts = new CancellationTokenSource(TestTimeout.Default);
        var first = Task.Run(async () =>
        {
            await foreach (var update in reader.TailAsync(new StreamCursor(7, StreamCursor.Beginning), cts.Token))
            {
                return update;
            }

            return null;
        });
        await Poll.UntilAsync(async () => (await harness.Servers.Redis.CliAsync("CLIENT", "LIST")).Contains("cmd=xread", StringComparison.Ordinal), "the tail blocks in XREAD");

        var ping = await db.PingAsync().DefaultTimeout();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await db.StreamAddAsync(reader.StreamKey, "data", ChangeBatch.Create(7, 0, "0-1-2", [new(4, 1, 2, StreamChangeKind.Upsert)])).DefaultTimeout();
        var update = await first.DefaultTimeout();
        await cts.CancelAsync();

        Assert.True(ping < TimeSpan.FromSeconds(1), $"PING on the shared connection took {ping}");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"the entry arrived after {clock.Elapsed}");
        Assert.Equal(4UL, update!.Batch![0].UserId);
    }
}
