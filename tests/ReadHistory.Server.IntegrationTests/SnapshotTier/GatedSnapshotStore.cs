using ReadHistory.Server.Cache;
using ReadHistory.Server.Cdc;

namespace ReadHistory.Server.IntegrationTests.SnapshotTier;

/// <summary>A real store whose GETs wait for <see cref="GetGate"/> (when set) after being counted, as a slow Redis would.</summary>
internal sealed class GatedSnapshotStore(ISnapshotStore inner) : ISnapshotStore
{
    private int _gets;

    /// <summary>When set, every GET waits for it before reading.</summary>
    public TaskCompletionSource? GetGate { get; set; }

    /// <summary>Completed by the first GET that reaches the gate.</summary>
    public TaskCompletionSource GetReachedGate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>GETs made.</summary>
    public int Gets => Volatile.Read(ref _gets);

    public async Task<byte[]?> GetAsync(ulong userId)
    {
        Interlocked.Increment(ref _gets);
        if (GetGate is { } gate)
        {
            GetReachedGate.TrySetResult();
            await gate.Task;
        }

        return await inner.GetAsync(userId);
    }

    public Task SetAsync(ulong userId, ReadOnlyMemory<byte> snapshot, TimeSpan ttl) => inner.SetAsync(userId, snapshot, ttl);

    public Task<TimeSpan?[]> GetTimeToLiveAsync(ReadOnlyMemory<ulong> userIds) => inner.GetTimeToLiveAsync(userIds);

    public Task DeleteAsync(ulong userId) => inner.DeleteAsync(userId);

    public Task<IReadOnlyList<StreamUpdate>> ReadChangesAsync(StreamCursor cursor) => inner.ReadChangesAsync(cursor);
}
