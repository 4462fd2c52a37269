using ReadHistory.Server.Cdc;
using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.Server.Tests.Cdc;

[Collection(CdcServersFixture.Collection)]
public sealed class ChangeStreamReaderTests(CdcServersFixture servers)
{
    [Fact]
    public async Task A_cursor_older_than_the_trimmed_stream_is_a_gap()
    {
        await using var harness = await CdcHarness.CreateAsync(servers, [("default", 1)]);
        var db = harness.Redis.GetDatabase();
        await db.StringSetAsync(harness.Keys.Epoch, CdcKeys.FormatEpoch(7)).DefaultTimeout();
        var stream = harness.Keys.Stream("default", 0);
        var firstId = (string?)await db.ExecuteAsync("XADD", stream, "*", "data", ChangeBatch.Create(7, 0, "0-1-1", [new(1, 1, 1, StreamChangeKind.Upsert)])).DefaultTimeout();
        for (var i = 0; i < 5; i++)
        {
            await db.ExecuteAsync("XADD", stream, "*", "data", ChangeBatch.Create(7, 0, "0-1-2", [new(1, 1, 2, StreamChangeKind.Upsert)])).DefaultTimeout();
        }

        await db.ExecuteAsync("XTRIM", stream, "MAXLEN", "2").DefaultTimeout();
        var updates = await harness.Reader("default", 0).ReadAsync(new StreamCursor(7, firstId!)).DefaultTimeout();

        var gap = Assert.Single(updates);
        Assert.True(gap.IsGap);
        Assert.Contains("trimmed", gap.GapReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_corrupt_entry_is_a_gap_and_reading_goes_on_after_it()
    {
        await using var harness = await CdcHarness.CreateAsync(servers, [("default", 1)]);
        var db = harness.Redis.GetDatabase();
        await db.StringSetAsync(harness.Keys.Epoch, CdcKeys.FormatEpoch(7)).DefaultTimeout();
        var stream = harness.Keys.Stream("default", 0);
        await db.ExecuteAsync("XADD", stream, "*", "data", new byte[] { 1, 2, 3 }).DefaultTimeout();
        await db.ExecuteAsync("XADD", stream, "*", "data", ChangeBatch.Create(7, 0, "0-1-2", [new(4, 1, 2, StreamChangeKind.Upsert)])).DefaultTimeout();

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
}
