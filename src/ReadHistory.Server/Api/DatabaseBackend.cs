using System.Buffers;
using Grpc.Core;
using ReadHistory.Api.V1;
using ReadHistory.Server.Storage;

namespace ReadHistory.Server.Api;

/// <summary>
/// Answers the public API from the database alone: a point query per check, group commit per write. It is the
/// backend of a process without cache nodes, the passthrough path, and the "database alone" baseline.
/// </summary>
internal sealed class DatabaseBackend(DatabaseConnector connector, AnswerSource source = AnswerSource.Database) : IReadHistoryBackend
{
    /// <inheritdoc />
    public async Task<AnswerSource> CheckAsync(CheckRequest request, Memory<byte> readBitmap, ServerCallContext context)
    {
        var open = Open();
        var count = request.ContentIds.Count;
        var ids = ArrayPool<ulong>.Shared.Rent(count);
        try
        {
            request.ContentIds.CopyTo(ids, 0);
            await StorageFailures.Guard(open.Store.ReadBitmapAsync(request.UserId, (ushort)request.ContentType, ids.AsMemory(0, count), readBitmap, context.CancellationToken)).ConfigureAwait(false);
            return source;
        }
        finally
        {
            ArrayPool<ulong>.Shared.Return(ids);
        }
    }

    /// <inheritdoc />
    public async Task<int> MarkReadAsync(MarkReadRequest request, ServerCallContext context)
    {
        var open = Open();
        var items = StoredReads.From(request, out var distinct);
        await StorageFailures.Guard(WriteAsync(open, request, items, context.CancellationToken)).ConfigureAwait(false);
        return distinct;
    }

    /// <inheritdoc />
    public async Task<long> ForgetUserAsync(ForgetUserRequest request, ServerCallContext context) =>
        await StorageFailures.Guard(Open().Store.ForgetAsync(request.UserId, context.CancellationToken)).ConfigureAwait(false);

    // The writer refuses a full queue synchronously; running it inside a task lets the guard map that too.
    private static async Task WriteAsync(OpenDatabase open, MarkReadRequest request, StoredRead[] items, CancellationToken cancellationToken) =>
        await open.Writer.WriteAsync(request.UserId, (ushort)request.ContentType, items, cancellationToken).ConfigureAwait(false);

    private OpenDatabase Open() =>
        connector.Current ?? throw StorageStatus.From(new DatabaseNotReadyException())!;
}
