using ReadHistory.Core.Filters;
using ReadHistory.Server.Cache;
using ReadHistory.Server.Storage;

namespace ReadHistory.Server.IntegrationTests.SnapshotTier;

/// <summary>The rig's database, recording at each ForgetUser whether the user's T2 snapshot still existed then.</summary>
internal sealed class ForgetOrderSource(IHistorySource inner, Func<ulong, Task<bool>> snapshotStored) : IHistorySource
{
    /// <summary>For each forget, whether the snapshot was still stored when the database delete began.</summary>
    public List<bool> SnapshotStoredAtDelete { get; } = [];

    public Task<int> PointQueryAsync(ulong userId, ushort contentType, ReadOnlyMemory<ulong> contentIds, Memory<byte> readBitmap, CancellationToken cancellationToken) =>
        inner.PointQueryAsync(userId, contentType, contentIds, readBitmap, cancellationToken);

    public Task<long> CountAsync(ulong userId, CancellationToken cancellationToken) => inner.CountAsync(userId, cancellationToken);

    public IAsyncEnumerable<ContentKey> ScanAsync(ulong userId, CancellationToken cancellationToken) => inner.ScanAsync(userId, cancellationToken);

    public async Task<long> ForgetAsync(ulong userId, CancellationToken cancellationToken)
    {
        SnapshotStoredAtDelete.Add(await snapshotStored(userId));
        return await inner.ForgetAsync(userId, cancellationToken);
    }

    public Task WriteAsync(ulong userId, ushort contentType, ReadOnlyMemory<StoredRead> items, CancellationToken cancellationToken) =>
        inner.WriteAsync(userId, contentType, items, cancellationToken);
}
