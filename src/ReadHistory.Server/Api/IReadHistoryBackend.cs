using ReadHistory.Api.V1;

namespace ReadHistory.Server.Api;

/// <summary>
/// What answers the public API behind validation: the proxy path through cache nodes, or the database alone.
/// Requests reaching it are already valid.
/// </summary>
internal interface IReadHistoryBackend
{
    /// <summary>Sets bit i of <paramref name="readBitmap"/> (LSB-first) for every read id and says where the answer came from.</summary>
    Task<AnswerSource> CheckAsync(CheckRequest request, Memory<byte> readBitmap, CancellationToken cancellationToken);

    /// <summary>Makes the reads durable, then visible; returns the number of distinct items written.</summary>
    Task<int> MarkReadAsync(MarkReadRequest request, CancellationToken cancellationToken);

    /// <summary>Removes the user's history everywhere; returns the rows removed from the database.</summary>
    Task<long> ForgetUserAsync(ForgetUserRequest request, CancellationToken cancellationToken);
}
