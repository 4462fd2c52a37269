using ReadHistory.Core.Filters;
using ReadHistory.Server.Cache;
using ReadHistory.Server.Storage;
using ReadHistory.TestSupport.Server;

namespace ReadHistory.Server.Tests.Cache;

/// <summary>
/// A database double whose writes go through the real <see cref="GroupCommitWriter"/> (over a test flusher, so a test
/// can hold a commit open) and whose reads come from an <see cref="InMemoryHistorySource"/> that never sees those
/// writes: a check that answers "read" for a written row answered from the filter.
/// </summary>
internal sealed class GroupCommitHistorySource(InMemoryHistorySource reads, GroupCommitWriter writer) : IHistorySource
{
    /// <inheritdoc />
    public Task<int> PointQueryAsync(ulong userId, ushort contentType, ReadOnlyMemory<ulong> contentIds, Memory<byte> readBitmap, CancellationToken cancellationToken) =>
        reads.PointQueryAsync(userId, contentType, contentIds, readBitmap, cancellationToken);

    /// <inheritdoc />
    public Task<int> LowPriorityPointQueryAsync(ulong userId, ushort contentType, ReadOnlyMemory<ulong> contentIds, Memory<byte> readBitmap, CancellationToken cancellationToken) =>
        reads.LowPriorityPointQueryAsync(userId, contentType, contentIds, readBitmap, cancellationToken);

    /// <inheritdoc />
    public Task<long> CountAsync(ulong userId, CancellationToken cancellationToken) => reads.CountAsync(userId, cancellationToken);

    /// <inheritdoc />
    public IAsyncEnumerable<ContentKey> ScanAsync(ulong userId, CancellationToken cancellationToken) => reads.ScanAsync(userId, cancellationToken);

    /// <inheritdoc />
    public Task<long> ForgetAsync(ulong userId, CancellationToken cancellationToken) => reads.ForgetAsync(userId, cancellationToken);

    /// <inheritdoc />
    public Task WriteAsync(ulong userId, ushort contentType, ReadOnlyMemory<StoredRead> items, CancellationToken cancellationToken) =>
        writer.WriteAsync(userId, contentType, items.Span, cancellationToken);
}
