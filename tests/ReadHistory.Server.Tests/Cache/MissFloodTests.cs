using ReadHistory.Server.Cache;
using Xunit;
using ReadHistory.TestSupport.Server;
using ReadHistory.TestSupport;
using static ReadHistory.TestSupport.Server.CacheTestKit;

namespace ReadHistory.Server.Tests.Cache;

public sealed class MissFloodTests
{
    private const int FloodUsers = 256;
    private const ulong CachedUser = 1;

    [Fact]
    public async Task A_node_under_a_flood_of_blocked_misses_keeps_answering_hits_from_memory()
    {
        var db = new InMemoryHistorySource();
        db.Seed(CachedUser, 0, 5);
        db.Seed(CachedUser, 0, 7);
        await using var node = NewNode(db);
        await CheckAsync(node, CachedUser, 0, 5);
        await WaitForRebuildsAsync(node);
        var pointQueriesBefore = db.PointQueries;
        db.PointQueryGate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        db.ScanGate = new(TaskCreationOptions.RunContinuationsAsynchronously);

        var flood = Enumerable.Range(0, FloodUsers)
            .Select(i => Task.Run(() => CheckFloodUserAsync(node, 1000 + (ulong)i)))
            .ToArray();
        (byte[] Bitmap, CheckResult Result)[] answers;
        bool floodStillBlocked;
        try
        {
            await Poll.UntilAsync(() => db.PointQueries - pointQueriesBefore == FloodUsers, "every miss to reach the blocked database");
            var hits = Enumerable.Range(0, 64).Select(_ => Task.Run(() => CheckAsync(node, CachedUser, 0, 5, 6, 7))).ToArray();
            answers = await Task.WhenAll(hits).DefaultTimeout();
            floodStillBlocked = flood.All(t => !t.IsCompleted);
        }
        finally
        {
            // Released whatever happened: the flood's point queries wait on the gate with no token of their own.
            db.PointQueryGate.TrySetResult();
            db.ScanGate.TrySetResult();
        }

        await Task.WhenAll(flood).DefaultTimeout();
        await WaitForRebuildsAsync(node);

        Assert.True(floodStillBlocked, "the hits were answered only after the flood was released");
        Assert.All(answers, a =>
        {
            Assert.Equal(new CheckResult(1, CheckSource.Memory), a.Result);
            Assert.Equal(0b101, a.Bitmap[0]);
        });
    }

    private static async Task CheckFloodUserAsync(ReadThroughCache node, ulong userId)
    {
        var bitmap = new byte[1];
        ulong[] ids = [1, 2, 3];
        await node.CheckAsync(userId, 0, ids, bitmap, passthrough: false, CancellationToken.None);
    }
}
