using ReadHistory.Server.Cdc;

namespace ReadHistory.Server.Cache;

/// <summary>
/// What the second tier (T2) needs of Redis: one value per user (a stamped filter snapshot) and the node's slot
/// stream, read after a cursor. The T2 logic sees only this, so that its races are tested with gates around a real
/// store; <see cref="RedisSnapshotStore"/> is the real one. Calls throw on a Redis failure; deadlines are the caller's.
/// </summary>
internal interface ISnapshotStore
{
    /// <summary>The user's stored snapshot, or null.</summary>
    Task<byte[]?> GetAsync(ulong userId);

    /// <summary>Stores the user's snapshot (replacing any), expiring after <paramref name="ttl"/>.</summary>
    Task SetAsync(ulong userId, ReadOnlyMemory<byte> snapshot, TimeSpan ttl);

    /// <summary>The time to live left of each user's snapshot (null: none stored), in one pipelined round trip.</summary>
    Task<TimeSpan?[]> GetTimeToLiveAsync(ReadOnlyMemory<ulong> userIds);

    /// <summary>Deletes the user's snapshot.</summary>
    Task DeleteAsync(ulong userId);

    /// <summary>One read of the node's slot stream after <paramref name="cursor"/> (empty: nothing newer; a gap when continuity is lost).</summary>
    Task<IReadOnlyList<StreamUpdate>> ReadChangesAsync(StreamCursor cursor);
}
