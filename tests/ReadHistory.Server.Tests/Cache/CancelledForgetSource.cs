using ReadHistory.Core.Filters;
using ReadHistory.Server.Cache;
using ReadHistory.Server.Storage;
using ReadHistory.TestSupport.Server;

namespace ReadHistory.Server.Tests.Cache;

/// <summary>
/// An in-memory source whose forget deletes the rows and then throws the caller's cancellation, as the store does when
/// the caller cancels after one chunk committed and before the next.
/// </summary>
internal sealed class CancelledForgetSource(InMemoryHistorySource inner) : IHistorySource
{
    public Task<int> PointQueryAsync(ulong userId, ushort contentType, ReadOnlyMemory<ulong> contentIds, Memory<byte> readBitmap, CancellationToken cancellationToken) =>
        inner.PointQueryAsync(userId, contentType, contentIds, readBitmap, cancellationToken);

    public Task<int> LowPriorityPointQueryAsync(ulong userId, ushort contentType, ReadOnlyMemory<ulong> contentIds, Memory<byte> readBitmap, CancellationToken cancellationToken) =>
        inner.LowPriorityPointQueryAsync(userId, contentType, contentIds, readBitmap, cancellationToken);

    public Task<long> CountAsync(ulong userId, CancellationToken cancellationToken) => inner.CountAsync(userId, cancellationToken);

    public IAsyncEnumerable<ContentKey> ScanAsync(ulong userId, CancellationToken cancellationToken) => inner.ScanAsync(userId, cancellationToken);

    public async Task<long> ForgetAsync(ulong userId, CancellationToken cancellationToken)
    {
        await inner.ForgetAsync(userId, CancellationToken.None).ConfigureAwait(false);
        throw new OperationCanceledException("the caller cancelled between two chunks");
    }

    public Task WriteAsync(ulong userId, ushort contentType, ReadOnlyMemory<StoredRead> items, CancellationToken cancellationToken) =>
        inner.WriteAsync(userId, contentType, items, cancellationToken);
}
