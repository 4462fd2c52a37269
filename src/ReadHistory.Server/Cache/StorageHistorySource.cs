using System.Runtime.CompilerServices;
using ReadHistory.Core.Filters;
using ReadHistory.Server.Storage;

namespace ReadHistory.Server.Cache;

/// <summary>The database as the cache sees it: point query, count, scan and forget on the <see cref="HistoryStore"/>, writes through the <see cref="GroupCommitWriter"/>.</summary>
internal sealed class StorageHistorySource(HistoryStore store, GroupCommitWriter writer) : IHistorySource
{
    /// <inheritdoc />
    public async Task<int> PointQueryAsync(ulong userId, ushort contentType, ReadOnlyMemory<ulong> contentIds, Memory<byte> readBitmap, CancellationToken cancellationToken) =>
        contentIds.Length - await store.ReadBitmapAsync(userId, contentType, contentIds, readBitmap, cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public async Task<int> LowPriorityPointQueryAsync(ulong userId, ushort contentType, ReadOnlyMemory<ulong> contentIds, Memory<byte> readBitmap, CancellationToken cancellationToken) =>
        contentIds.Length - await store.ReadBitmapAsync(userId, contentType, contentIds, readBitmap, StoragePool.Scan, cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public Task<long> CountAsync(ulong userId, CancellationToken cancellationToken) => store.CountAsync(userId, cancellationToken);

    /// <inheritdoc />
    public async IAsyncEnumerable<ContentKey> ScanAsync(ulong userId, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var row in store.ScanAsync(userId, cancellationToken).ConfigureAwait(false))
        {
            yield return new ContentKey(row.ContentType, row.ContentId);
        }
    }

    /// <inheritdoc />
    public Task<long> ForgetAsync(ulong userId, CancellationToken cancellationToken) => store.ForgetAsync(userId, cancellationToken);

    /// <inheritdoc />
    public Task WriteAsync(ulong userId, ushort contentType, ReadOnlyMemory<StoredRead> items, CancellationToken cancellationToken) =>
        writer.WriteAsync(userId, contentType, items.Span, cancellationToken);
}
