using ReadHistory.Server.Cdc;
using ReadHistory.Server.Storage;
using ReadHistory.Server.IntegrationTests.Cdc;
using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.Server.IntegrationTests.Coherence;

/// <summary>
/// The commit time a batch carries is what replicas measure their lag from (aim: P99 ≤ 100 ms). The binlog stamps
/// commits in whole seconds, so a batch stamped straight from it would be up to a second early.
/// </summary>
[Collection(CdcServersFixture.Collection)]
public sealed class BatchCommitTimeTests(CdcServersFixture servers)
{
    [Fact]
    public async Task A_batch_is_stamped_no_earlier_than_its_write_started_and_no_later_than_it_was_read()
    {
        await using var harness = await CdcHarness.CreateAsync(servers, [("default", 1)]);
        var publisher = await harness.StartLeaderAsync();
        var reader = harness.Reader("default", 0);
        var cursor = new StreamCursor(publisher.Epoch, StreamCursor.Beginning);

        for (var write = 1UL; write <= 5; write++)
        {
            var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            await harness.Storage.Writer.WriteAsync(write, 0, [new StoredRead(write, 0)]).DefaultTimeout();
            ChangeBatch? batch = null;
            await Poll.UntilAsync(
                async () =>
                {
                    foreach (var update in await reader.ReadAsync(cursor))
                    {
                        Assert.False(update.IsGap, update.GapReason);
                        cursor = update.Cursor;
                        batch = update.Batch!.Count > 0 ? update.Batch : batch;
                    }

                    return batch is not null;
                },
                "the write's batch on the slot stream");

            var after = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            Assert.NotNull(batch);
            Assert.InRange(batch.CommitTimeMs, before, after);
        }
    }
}
