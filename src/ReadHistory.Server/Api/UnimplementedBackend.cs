using ReadHistory.Api.V1;
using ReadHistory.Rpc;

namespace ReadHistory.Server.Api;

/// <summary>The backend until the storage and cache paths are wired: every valid call answers UNIMPLEMENTED, saying so.</summary>
internal sealed class UnimplementedBackend : IReadHistoryBackend
{
    private static readonly RpcException NotYet = new(new Status(StatusCode.Unimplemented, "this build validates requests but has no storage backend wired yet"));

    /// <inheritdoc />
    public Task<AnswerSource> CheckAsync(CheckRequest request, Memory<byte> readBitmap, CancellationToken cancellationToken) => Task.FromException<AnswerSource>(NotYet);

    /// <inheritdoc />
    public Task<int> MarkReadAsync(MarkReadRequest request, CancellationToken cancellationToken) => Task.FromException<int>(NotYet);

    /// <inheritdoc />
    public Task<long> ForgetUserAsync(ForgetUserRequest request, CancellationToken cancellationToken) => Task.FromException<long>(NotYet);
}
