using Microsoft.Extensions.Logging.Abstractions;
using ReadHistory.Server.Cache;
using ReadHistory.Server.Storage;
using ReadHistory.TestSupport;
using ReadHistory.TestSupport.Server;
using Xunit;

namespace ReadHistory.Server.Tests.Cache;

/// <summary>What the cache hands its peer fan-out: committed writes and Forgets, never passthrough ones, and it waits for the sink's answer.</summary>
public sealed class ReadThroughCachePeersTests
{
    [Fact]
    public async Task A_committed_write_is_published_and_acknowledged_only_once_the_peers_answer()
    {
        var sink = new RecordingSink();
        await using var node = new ReadThroughCache(CacheTestKit.Options(), new InMemoryHistorySource(), TimeProvider.System, NullLogger.Instance) { Peers = sink };

        var write = node.MarkReadAsync(5, 2, new[] { new StoredRead(10, 0), new StoredRead(11, 0) }, passthrough: false, CancellationToken.None);
        await Poll.UntilAsync(() => sink.Published.Count == 1, "the write to be published");

        Assert.Equal("insert 5/2: 10,11", sink.Published.Single());
        Assert.False(write.IsCompleted, "the write was acknowledged before its peers answered");
        sink.Answer.SetResult();
        await write.DefaultTimeout();
        Assert.Equal(1, sink.Waits);
    }

    [Fact]
    public async Task A_write_moved_off_the_sessions_replica_asks_the_sink_to_wait_until_the_peers_applied_it()
    {
        var sink = new RecordingSink();
        sink.Answer.SetResult();
        await using var node = new ReadThroughCache(CacheTestKit.Options(), new InMemoryHistorySource(), TimeProvider.System, NullLogger.Instance) { Peers = sink };

        await node.MarkReadAsync(5, 2, new[] { new StoredRead(10, 0) }, passthrough: false, CancellationToken.None).DefaultTimeout();
        await node.MarkReadAsync(5, 2, new[] { new StoredRead(11, 0) }, passthrough: false, untilPeersApplied: true, CancellationToken.None).DefaultTimeout();

        Assert.Equal(["insert 5/2: 10", "insert 5/2: 11 (until applied)"], sink.Published);
    }

    [Fact]
    public async Task A_passthrough_write_is_not_published()
    {
        var sink = new RecordingSink();
        await using var node = new ReadThroughCache(CacheTestKit.Options(), new InMemoryHistorySource(), TimeProvider.System, NullLogger.Instance) { Peers = sink };

        await node.MarkReadAsync(5, 2, new[] { new StoredRead(10, 0) }, passthrough: true, CancellationToken.None).DefaultTimeout();
        await node.ForgetAsync(5, passthrough: true, CancellationToken.None).DefaultTimeout();

        Assert.Empty(sink.Published);
    }

    [Fact]
    public async Task A_forget_is_published_as_a_user_deletion()
    {
        var sink = new RecordingSink();
        sink.Answer.SetResult();
        await using var node = new ReadThroughCache(CacheTestKit.Options(), new InMemoryHistorySource(), TimeProvider.System, NullLogger.Instance) { Peers = sink };

        await node.ForgetAsync(6, passthrough: false, CancellationToken.None).DefaultTimeout();

        Assert.Equal("delete 6", sink.Published.Single());
    }

    private sealed class RecordingSink : CommittedChangeSink
    {
        public List<string> Published { get; } = [];

        public TaskCompletionSource Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Waits { get; private set; }

        public override ValueTask PublishInsertsAsync(ulong userId, ushort contentType, ReadOnlySpan<StoredRead> items, bool untilApplied = false)
        {
            var ids = new List<ulong>();
            foreach (var item in items)
            {
                ids.Add(item.ContentId);
            }

            lock (Published)
            {
                Published.Add($"insert {userId}/{contentType}: {string.Join(',', ids)}" + (untilApplied ? " (until applied)" : string.Empty));
            }

            return new ValueTask(Answer.Task);
        }

        public override ValueTask PublishDeleteUserAsync(ulong userId)
        {
            lock (Published)
            {
                Published.Add($"delete {userId}");
            }

            return new ValueTask(Answer.Task);
        }

        public override void ObserveWait(TimeSpan waited) => Waits++;
    }
}
