using ReadHistory.Server.Storage;

namespace ReadHistory.Server.Cache;

/// <summary>
/// Where a node's committed changes go besides its own filters: the other replicas of its slot (the Coherence room's
/// peer fan-out), so that they need not wait for the change stream. A seam of the Cache room, so that Cache does not
/// use Coherence; <see cref="None"/> when the node fans out nothing.
/// </summary>
internal abstract class CommittedChangeSink
{
    /// <summary>Sends nothing and waits for nothing.</summary>
    public static readonly CommittedChangeSink None = new NoSink();

    /// <summary>
    /// Queues rows of one user and type that have just committed; the result completes once the peers acknowledged
    /// them or the sink's wait bound elapsed (never faults); with <paramref name="untilApplied"/>, only once every peer
    /// that is not failing applied them, whatever the bound. <paramref name="items"/> is copied before this returns.
    /// </summary>
    public abstract ValueTask PublishInsertsAsync(ulong userId, ushort contentType, ReadOnlySpan<StoredRead> items, bool untilApplied = false);

    /// <summary>Queues the deletion of a user's history (Forget); completes as <see cref="PublishInsertsAsync"/>.</summary>
    public abstract ValueTask PublishDeleteUserAsync(ulong userId);

    /// <summary>Records how long a writer waited for the result of a publish (0 when it had completed already).</summary>
    public abstract void ObserveWait(TimeSpan waited);

    private sealed class NoSink : CommittedChangeSink
    {
        public override ValueTask PublishInsertsAsync(ulong userId, ushort contentType, ReadOnlySpan<StoredRead> items, bool untilApplied = false) => ValueTask.CompletedTask;

        public override ValueTask PublishDeleteUserAsync(ulong userId) => ValueTask.CompletedTask;

        public override void ObserveWait(TimeSpan waited)
        {
        }
    }
}
