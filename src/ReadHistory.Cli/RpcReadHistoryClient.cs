using ReadHistory.Api;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using ReadHistory.Api.V1;
using CacheNodeClient = ReadHistory.Api.Internal.V1.CacheNode.CacheNodeClient;
using ExplainRequest = ReadHistory.Api.Internal.V1.ExplainRequest;
using ExplainResponse = ReadHistory.Api.Internal.V1.ExplainResponse;
using ReadHistoryClient = ReadHistory.Api.V1.ReadHistory.ReadHistoryClient;

namespace ReadHistory.Cli;

/// <summary>The CLI's calls over one Grpc.Net.Client channel (gRPC over HTTP/2), through the generated clients.</summary>
internal sealed class RpcReadHistoryClient : IReadHistoryClient
{
    private readonly GrpcChannel _channel;
    private readonly ReadHistoryClient _client;
    private readonly Health.HealthClient _health;
    private readonly CacheNodeClient _node;

    private RpcReadHistoryClient(GrpcChannel channel)
    {
        _channel = channel;
        _client = new ReadHistoryClient(channel);
        _health = new Health.HealthClient(channel);
        _node = new CacheNodeClient(channel);
    }

    /// <summary>A client with its own channel to <paramref name="endpoint"/>, sending <paramref name="token"/> (an API key) when given.</summary>
    public static IReadHistoryClient Create(Uri endpoint, string? token) => new RpcReadHistoryClient(ServiceChannels.Create(endpoint, bearerToken: token));

    /// <inheritdoc />
    public Task<CheckResponse> CheckAsync(CheckRequest request, DateTime? deadline, CancellationToken cancellationToken) =>
        AwaitAsync(_client.CheckAsync(request, Options(deadline, cancellationToken)));

    /// <inheritdoc />
    public Task<FilterResponse> FilterAsync(CheckRequest request, DateTime? deadline, CancellationToken cancellationToken) =>
        AwaitAsync(_client.FilterAsync(request, Options(deadline, cancellationToken)));

    /// <inheritdoc />
    public Task<MarkReadResponse> MarkReadAsync(MarkReadRequest request, DateTime? deadline, CancellationToken cancellationToken) =>
        AwaitAsync(_client.MarkReadAsync(request, Options(deadline, cancellationToken)));

    /// <inheritdoc />
    public Task<ForgetUserResponse> ForgetUserAsync(ForgetUserRequest request, DateTime? deadline, CancellationToken cancellationToken) =>
        AwaitAsync(_client.ForgetUserAsync(request, Options(deadline, cancellationToken)));

    /// <inheritdoc />
    public Task<ExplainResponse> ExplainAsync(ExplainRequest request, DateTime? deadline, CancellationToken cancellationToken) =>
        AwaitAsync(_node.ExplainAsync(request, Options(deadline, cancellationToken)));

    /// <inheritdoc />
    public Task<HealthCheckResponse> CheckHealthAsync(HealthCheckRequest request, DateTime? deadline, CancellationToken cancellationToken) =>
        AwaitAsync(_health.CheckAsync(request, Options(deadline, cancellationToken)));

    /// <inheritdoc />
    public async Task<IngestResponse> IngestAsync(IAsyncEnumerable<IngestRequest> batches, DateTime? deadline, CancellationToken cancellationToken)
    {
        using var call = _client.Ingest(Options(deadline, cancellationToken));
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

    private static CallOptions Options(DateTime? deadline, CancellationToken cancellationToken) =>
        new(deadline: deadline, cancellationToken: cancellationToken);

    private static async Task<TResponse> AwaitAsync<TResponse>(AsyncUnaryCall<TResponse> call)
    {
        using (call)
        {
            return await call.ResponseAsync.ConfigureAwait(false);
        }
    }
}
