using ReadHistory.Core.Filters;
using ReadHistory.Server.Storage;

namespace ReadHistory.Server.Cache;

/// <summary>
/// What a cache node needs of the database (T3): the blocking point query, the rebuild count and scan, the user
/// delete, and the group-committed write. The cache logic sees only this, so that it is tested without a server;
/// <c>StorageHistorySource</c> adapts the real storage layer.
/// </summary>
internal interface IHistorySource
{
    /// <summary>
    /// Asks the database which of <paramref name="contentIds"/> the user has read: bit i of <paramref name="readBitmap"/>
    /// (byte i / 8, bit i % 8, LSB first) is set when ids[i] is stored; every other bit is cleared. Returns how many
    /// ids are unread. Runs on the high-priority point-query pool.
    /// </summary>
    Task<int> PointQueryAsync(ulong userId, ushort contentType, ReadOnlyMemory<ulong> contentIds, Memory<byte> readBitmap, CancellationToken cancellationToken);

    /// <summary>
    /// <see cref="PointQueryAsync"/> for work off the hot path (the false-positive verifier, Explain): on the
    /// low-priority pool, so it never takes a connection a Check waits for. By default the point query itself.
    /// </summary>
    Task<int> LowPriorityPointQueryAsync(ulong userId, ushort contentType, ReadOnlyMemory<ulong> contentIds, Memory<byte> readBitmap, CancellationToken cancellationToken) =>
        PointQueryAsync(userId, contentType, contentIds, readBitmap, cancellationToken);

    /// <summary>How many rows the user has, over every content type (sizes the rebuilt filter).</summary>
    Task<long> CountAsync(ulong userId, CancellationToken cancellationToken);

    /// <summary>
    /// Streams every row of the user, over every content type, from one consistent snapshot taken no earlier than the
    /// call (the low-priority scan pool). A write committed before the call is in it.
    /// </summary>
    IAsyncEnumerable<ContentKey> ScanAsync(ulong userId, CancellationToken cancellationToken);

    /// <summary>Deletes every row of the user; returns how many were removed.</summary>
    Task<long> ForgetAsync(ulong userId, CancellationToken cancellationToken);

    /// <summary>Writes reads of one user and one content type; completes once they are committed (group commit).</summary>
    Task WriteAsync(ulong userId, ushort contentType, ReadOnlyMemory<StoredRead> items, CancellationToken cancellationToken);
}
