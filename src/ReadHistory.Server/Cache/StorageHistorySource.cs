using System.Buffers;
using System.Runtime.CompilerServices;
using ReadHistory.Core.Filters;
using ReadHistory.Server.Storage;
using StoredRead = ReadHistory.Server.Storage.ReadItem;

namespace ReadHistory.Server.Cache;

/// <summary>The database as the cache sees it: point query, count, scan and forget on the <see cref="HistoryStore"/>, writes through the <see cref="GroupCommitWriter"/>.</summary>
internal sealed class StorageHistorySource(HistoryStore store, GroupCommitWriter writer) : IHistorySource
{
    /// <inheritdoc />
    public async Task<int> PointQueryAsync(ulong userId, ushort contentType, ReadOnlyMemory<ulong> contentIds, Memory<byte> readBitmap, CancellationToken cancellationToken)
    {
        var count = contentIds.Length;
        var found = ArrayPool<bool>.Shared.Rent(count);
        try
        {
            var read = await store.ContainsAsync(userId, contentType, contentIds, found.AsMemory(0, count), cancellationToken).ConfigureAwait(false);
            var bitmap = readBitmap.Span[..((count + 7) / 8)];
            bitmap.Clear();
            for (var i = 0; i < count; i++)
            {
                if (found[i])
                {
                    bitmap[i >> 3] |= (byte)(1 << (i & 7));
                }
            }

            return count - read;
        }
        finally
        {
            ArrayPool<bool>.Shared.Return(found);
        }
    }

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
