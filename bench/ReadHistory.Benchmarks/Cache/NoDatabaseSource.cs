using ReadHistory.Core.Filters;
using ReadHistory.Server.Cache;
using ReadHistory.Server.Storage;

namespace ReadHistory.Benchmarks.Cache;

/// <summary>A history source that fails every call: the hit path under measurement must never reach the database.</summary>
internal sealed class NoDatabaseSource : IHistorySource
{
    public Task<int> PointQueryAsync(ulong userId, ushort contentType, ReadOnlyMemory<ulong> contentIds, Memory<byte> readBitmap, CancellationToken cancellationToken) => throw Unexpected();

    public Task<long> CountAsync(ulong userId, CancellationToken cancellationToken) => throw Unexpected();

    public IAsyncEnumerable<ContentKey> ScanAsync(ulong userId, CancellationToken cancellationToken) => throw Unexpected();

    public Task<long> ForgetAsync(ulong userId, CancellationToken cancellationToken) => throw Unexpected();

    public Task WriteAsync(ulong userId, ushort contentType, ReadOnlyMemory<StoredRead> items, CancellationToken cancellationToken) => throw Unexpected();

    private static InvalidOperationException Unexpected() => new("the benchmark touched the database: the user was not held");
}
