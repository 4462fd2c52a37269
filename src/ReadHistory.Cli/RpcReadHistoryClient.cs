using ReadHistory.Rpc.Health;
using ReadHistory.Api.V1;
using ReadHistory.Rpc;
using ReadHistory.Rpc.Client;
using ReadHistory.Rpc.Health.V1;

namespace ReadHistory.Cli;

/// <summary>The CLI's calls over a ReadHistory.Rpc channel (gRPC over HTTP/2).</summary>
internal sealed class RpcReadHistoryClient : IReadHistoryClient
{
    private readonly GrpcChannel _channel;
    private readonly CallInvoker _invoker;

    private RpcReadHistoryClient(GrpcChannel channel)
    {
        _channel = channel;
        _invoker = channel.CreateCallInvoker();
    }

    /// <summary>A client with its own channel to <paramref name="endpoint"/>.</summary>
    public static IReadHistoryClient Create(Uri endpoint) => new RpcReadHistoryClient(GrpcChannel.ForAddress(endpoint));

    /// <inheritdoc />
    public Task<CheckResponse> CheckAsync(CheckRequest request, DateTime? deadline, CancellationToken cancellationToken) =>
        UnaryAsync(ReadHistoryMethods.Check, request, deadline, cancellationToken);

    /// <inheritdoc />
    public Task<FilterResponse> FilterAsync(CheckRequest request, DateTime? deadline, CancellationToken cancellationToken) =>
        UnaryAsync(ReadHistoryMethods.Filter, request, deadline, cancellationToken);

    /// <inheritdoc />
    public Task<MarkReadResponse> MarkReadAsync(MarkReadRequest request, DateTime? deadline, CancellationToken cancellationToken) =>
        UnaryAsync(ReadHistoryMethods.MarkRead, request, deadline, cancellationToken);

    /// <inheritdoc />
    public Task<ForgetUserResponse> ForgetUserAsync(ForgetUserRequest request, DateTime? deadline, CancellationToken cancellationToken) =>
        UnaryAsync(ReadHistoryMethods.ForgetUser, request, deadline, cancellationToken);

    /// <inheritdoc />
    public Task<HealthCheckResponse> CheckHealthAsync(HealthCheckRequest request, DateTime? deadline, CancellationToken cancellationToken) =>
        UnaryAsync(HealthMethods.Check, request, deadline, cancellationToken);

    /// <inheritdoc />
    public async Task<IngestResponse> IngestAsync(IAsyncEnumerable<IngestRequest> batches, DateTime? deadline, CancellationToken cancellationToken)
    {
        using var call = _invoker.AsyncClientStreamingCall(ReadHistoryMethods.Ingest, null, new CallOptions(deadline: deadline, cancellationToken: cancellationToken));
        // A bad input line throws out of this loop; disposing the call then cancels the stream so the server drops it.
        await foreach (var batch in batches.ConfigureAwait(false))
        {
            await call.RequestStream.WriteAsync(batch, cancellationToken).ConfigureAwait(false);
        }

        await call.RequestStream.CompleteAsync().ConfigureAwait(false);
        return await call.ResponseAsync.ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        _channel.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task<TResponse> UnaryAsync<TRequest, TResponse>(Method<TRequest, TResponse> method, TRequest request, DateTime? deadline, CancellationToken cancellationToken)
        where TRequest : class, Google.Protobuf.IMessage<TRequest>
        where TResponse : class, Google.Protobuf.IMessage<TResponse>
    {
        using var call = _invoker.AsyncUnaryCall(method, null, new CallOptions(deadline: deadline, cancellationToken: cancellationToken), request);
        return await call.ResponseAsync.ConfigureAwait(false);
    }
}
