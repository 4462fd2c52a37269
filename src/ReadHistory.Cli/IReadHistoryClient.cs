using ReadHistory.Api.V1;
using Grpc.Health.V1;

namespace ReadHistory.Cli;

/// <summary>
/// The calls the CLI makes. Failures surface as <see cref="Grpc.Core.RpcException"/> carrying the gRPC status,
/// so commands can be tested against a fake as well as against an in-process server.
/// </summary>
internal interface IReadHistoryClient : IAsyncDisposable
{
    /// <summary>ReadHistory.Check.</summary>
    Task<CheckResponse> CheckAsync(CheckRequest request, DateTime? deadline, CancellationToken cancellationToken);

    /// <summary>ReadHistory.Filter.</summary>
    Task<FilterResponse> FilterAsync(CheckRequest request, DateTime? deadline, CancellationToken cancellationToken);

    /// <summary>ReadHistory.MarkRead.</summary>
    Task<MarkReadResponse> MarkReadAsync(MarkReadRequest request, DateTime? deadline, CancellationToken cancellationToken);

    /// <summary>ReadHistory.Ingest: streams every batch, then waits for the single answer.</summary>
    Task<IngestResponse> IngestAsync(IAsyncEnumerable<IngestRequest> batches, DateTime? deadline, CancellationToken cancellationToken);

    /// <summary>ReadHistory.ForgetUser.</summary>
    Task<ForgetUserResponse> ForgetUserAsync(ForgetUserRequest request, DateTime? deadline, CancellationToken cancellationToken);

    /// <summary>The internal CacheNode.Explain (the endpoint must be a cache node's internal port).</summary>
    Task<ReadHistory.Api.Internal.V1.ExplainResponse> ExplainAsync(ReadHistory.Api.Internal.V1.ExplainRequest request, DateTime? deadline, CancellationToken cancellationToken);

    /// <summary>grpc.health.v1.Health.Check.</summary>
    Task<HealthCheckResponse> CheckHealthAsync(HealthCheckRequest request, DateTime? deadline, CancellationToken cancellationToken);
}
