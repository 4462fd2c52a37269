using Grpc.Core;
using ReadHistory.Api.V1;

namespace ReadHistory.Server.Api;

/// <summary>
/// What answers the public API behind validation: the proxy path through cache nodes, a cache node, or the database
/// alone. Requests reaching it are already valid. Each call gets the whole call context: the proxy forwards its
/// deadline, the others use its cancellation only.
/// </summary>
internal interface IReadHistoryBackend
{
    /// <summary>Sets bit i of <paramref name="readBitmap"/> (LSB-first) for every read id and says where the answer came from.</summary>
    Task<AnswerSource> CheckAsync(CheckRequest request, Memory<byte> readBitmap, ServerCallContext context);

    /// <summary>Makes the reads durable, then visible; returns the number of distinct items written.</summary>
    Task<int> MarkReadAsync(MarkReadRequest request, ServerCallContext context);

    /// <summary>Removes the user's history everywhere; returns the rows removed from the database.</summary>
    Task<long> ForgetUserAsync(ForgetUserRequest request, ServerCallContext context);

    /// <summary>
    /// Answers a BatchCheck in one go (the proxy splits it by slot): fills every null entry of <paramref name="results"/>
    /// (the others already failed validation), each with its own status. Returns false when the backend has no batch
    /// path, and the service checks entry by entry instead.
    /// </summary>
    ValueTask<bool> TryBatchCheckAsync(BatchCheckRequest request, UserCheckResult?[] results, ServerCallContext context) =>
        ValueTask.FromResult(false);

    /// <summary>
    /// The write side of one Ingest stream, holding at most <paramref name="maxRowsInFlight"/> rows unacknowledged. By
    /// default the stream's messages are pipelined through <see cref="MarkReadAsync"/>; the proxy sends them on as
    /// one stream per slot instead.
    /// </summary>
    IIngestSink OpenIngest(ServerCallContext context, int maxRowsInFlight) => new PipelinedIngest(this, context, maxRowsInFlight);
}
