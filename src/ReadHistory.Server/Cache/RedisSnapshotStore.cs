using System.Globalization;
using ReadHistory.Server.Cdc;
using StackExchange.Redis;

namespace ReadHistory.Server.Cache;

/// <summary>
/// T2 in Redis: a string per user under <c>{prefix}:t2:{pool:user}:slot</c>, whose hash tag is the user's own, so the
/// snapshots spread over a Redis Cluster by user (unlike a coherence slot's keys, which share the slot's tag). The
/// slot is in the key because a stamp's cursor means something only in the stream it was read from: after a change
/// of the pool's slot count, a node of another slot finds no snapshot rather than one it would misread. The slot's
/// stream is read by the node's <see cref="ChangeStreamReader"/>.
/// </summary>
internal sealed class RedisSnapshotStore(IConnectionMultiplexer connection, string keyPrefix, string pool, int slot, ChangeStreamReader reader) : ISnapshotStore
{
    private readonly string _suffix = "}:" + slot.ToString(CultureInfo.InvariantCulture);

    private readonly IDatabase _database = connection.GetDatabase();

    /// <summary>The key of a user's snapshot.</summary>
    public string Key(ulong userId) => keyPrefix + ":t2:{" + pool + ":" + userId.ToString(CultureInfo.InvariantCulture) + _suffix;

    /// <inheritdoc />
    public async Task<byte[]?> GetAsync(ulong userId)
    {
        var value = await _database.StringGetAsync(Key(userId)).ConfigureAwait(false);
        return value.IsNull ? null : (byte[])value!;
    }

    /// <inheritdoc />
    public Task SetAsync(ulong userId, ReadOnlyMemory<byte> snapshot, TimeSpan ttl) =>
        _database.StringSetAsync(Key(userId), snapshot, ttl);

    /// <inheritdoc />
    public Task<TimeSpan?[]> GetTimeToLiveAsync(ReadOnlyMemory<ulong> userIds)
    {
        // PTTL each, sent back to back on the shared connection (pipelined), then awaited together.
        var replies = new Task<TimeSpan?>[userIds.Length];
        var users = userIds.Span;
        for (var i = 0; i < replies.Length; i++)
        {
            replies[i] = _database.KeyTimeToLiveAsync(Key(users[i]));
        }

        return Task.WhenAll(replies);
    }

    /// <inheritdoc />
    public Task DeleteAsync(ulong userId) => _database.KeyDeleteAsync(Key(userId));

    /// <inheritdoc />
    public Task<IReadOnlyList<StreamUpdate>> ReadChangesAsync(StreamCursor cursor) => reader.ReadAsync(cursor);
}
