using ReadHistory.Api.V1;
using Grpc.Core;
using Grpc.Health.V1;

namespace ReadHistory.Cli.Tests;

/// <summary>Answers with canned responses (or a canned failure) and remembers what it was asked.</summary>
internal sealed class FakeReadHistoryClient : IReadHistoryClient
{
    public CheckResponse CheckResponse { get; set; } = new();

    public FilterResponse FilterResponse { get; set; } = new();

    public MarkReadResponse MarkReadResponse { get; set; } = new();

    public IngestResponse IngestResponse { get; set; } = new();

    public ForgetUserResponse ForgetUserResponse { get; set; } = new();

    public ReadHistory.Api.Internal.V1.ExplainResponse ExplainResponse { get; set; } = new();

    public HealthCheckResponse HealthResponse { get; set; } = new() { Status = HealthCheckResponse.Types.ServingStatus.Serving };

    /// <summary>When set, every call fails with this status (the first <see cref="FailedCalls"/> only, when that is set).</summary>
    public Status? Failure { get; set; }

    /// <summary>The trailers of <see cref="Failure"/>.</summary>
    public Metadata FailureTrailers { get; set; } = [];

    /// <summary>How many calls fail with <see cref="Failure"/> before the rest are answered.</summary>
    public int FailedCalls { get; set; } = int.MaxValue;

    public Uri? Endpoint { get; set; }

    /// <summary>The API key the CLI built the client with (--token or $READHISTORY_TOKEN).</summary>
    public string? Token { get; set; }

    public List<object> Requests { get; } = [];

    public List<DateTime?> Deadlines { get; } = [];

    public Task<CheckResponse> CheckAsync(CheckRequest request, DateTime? deadline, CancellationToken cancellationToken) => Answer(request, deadline, CheckResponse);

    public Task<FilterResponse> FilterAsync(CheckRequest request, DateTime? deadline, CancellationToken cancellationToken) => Answer(request, deadline, FilterResponse);

    public Task<MarkReadResponse> MarkReadAsync(MarkReadRequest request, DateTime? deadline, CancellationToken cancellationToken) => Answer(request, deadline, MarkReadResponse);

    public Task<ForgetUserResponse> ForgetUserAsync(ForgetUserRequest request, DateTime? deadline, CancellationToken cancellationToken) => Answer(request, deadline, ForgetUserResponse);

    public Task<ReadHistory.Api.Internal.V1.ExplainResponse> ExplainAsync(ReadHistory.Api.Internal.V1.ExplainRequest request, DateTime? deadline, CancellationToken cancellationToken) => Answer(request, deadline, ExplainResponse);

    public Task<HealthCheckResponse> CheckHealthAsync(HealthCheckRequest request, DateTime? deadline, CancellationToken cancellationToken) => Answer(request, deadline, HealthResponse);

    public async Task<IngestResponse> IngestAsync(IAsyncEnumerable<IngestRequest> batches, DateTime? deadline, CancellationToken cancellationToken)
    {
        await foreach (var batch in batches.WithCancellation(cancellationToken))
        {
            Requests.Add(batch);
        }

        return await Answer(null, deadline, IngestResponse);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private Task<T> Answer<T>(object? request, DateTime? deadline, T response)
    {
        if (request is not null)
        {
            Requests.Add(request);
        }

        Deadlines.Add(deadline);
        return Failure is { } status && Deadlines.Count <= FailedCalls ? Task.FromException<T>(new RpcException(status, FailureTrailers)) : Task.FromResult(response);
    }
}
