using System.Globalization;
using Grpc.Core;
using Grpc.Health.V1;
using ReadHistory.Api.V1;

namespace ReadHistory.Cli;

/// <summary>
/// Honours the server's load shedding: a unary call refused with RESOURCE_EXHAUSTED and a <c>retry-after-ms</c>
/// trailer is sent again after that wait, at most <see cref="MaxRetries"/> times and only while the wait ends before
/// the call's deadline (docs/operations.md, "What a client should do"). Every call retried is idempotent. Ingest is
/// not retried: its input is read once, as it streams.
/// </summary>
internal sealed class RetryAfterClient(IReadHistoryClient inner, TimeProvider time) : IReadHistoryClient
{
    /// <summary>Retries after the first refusal.</summary>
    public const int MaxRetries = 2;

    /// <summary>The trailer carrying the server's retry hint in milliseconds.</summary>
    public const string RetryAfterTrailer = "retry-after-ms";

    /// <inheritdoc />
    public Task<CheckResponse> CheckAsync(CheckRequest request, DateTime? deadline, CancellationToken cancellationToken) =>
        RetryAsync(static (c, r, d, t) => c.CheckAsync(r, d, t), request, deadline, cancellationToken);

    /// <inheritdoc />
    public Task<FilterResponse> FilterAsync(CheckRequest request, DateTime? deadline, CancellationToken cancellationToken) =>
        RetryAsync(static (c, r, d, t) => c.FilterAsync(r, d, t), request, deadline, cancellationToken);

    /// <inheritdoc />
    public Task<MarkReadResponse> MarkReadAsync(MarkReadRequest request, DateTime? deadline, CancellationToken cancellationToken) =>
        RetryAsync(static (c, r, d, t) => c.MarkReadAsync(r, d, t), request, deadline, cancellationToken);

    /// <inheritdoc />
    public Task<ForgetUserResponse> ForgetUserAsync(ForgetUserRequest request, DateTime? deadline, CancellationToken cancellationToken) =>
        RetryAsync(static (c, r, d, t) => c.ForgetUserAsync(r, d, t), request, deadline, cancellationToken);

    /// <inheritdoc />
    public Task<IngestResponse> IngestAsync(IAsyncEnumerable<IngestRequest> batches, DateTime? deadline, CancellationToken cancellationToken) =>
        inner.IngestAsync(batches, deadline, cancellationToken);

    /// <inheritdoc />
    public Task<ReadHistory.Api.Internal.V1.ExplainResponse> ExplainAsync(ReadHistory.Api.Internal.V1.ExplainRequest request, DateTime? deadline, CancellationToken cancellationToken) =>
        inner.ExplainAsync(request, deadline, cancellationToken);

    /// <inheritdoc />
    public Task<HealthCheckResponse> CheckHealthAsync(HealthCheckRequest request, DateTime? deadline, CancellationToken cancellationToken) =>
        inner.CheckHealthAsync(request, deadline, cancellationToken);

    /// <inheritdoc />
    public ValueTask DisposeAsync() => inner.DisposeAsync();

    /// <summary>The wait a refusal asks for, or null when it is not a load refusal with a hint.</summary>
    public static TimeSpan? RetryAfter(RpcException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception.StatusCode == StatusCode.ResourceExhausted
            && long.TryParse(exception.Trailers.GetValue(RetryAfterTrailer), NumberStyles.None, CultureInfo.InvariantCulture, out var milliseconds)
            ? TimeSpan.FromMilliseconds(milliseconds)
            : null;
    }

    private async Task<TResponse> RetryAsync<TRequest, TResponse>(Func<IReadHistoryClient, TRequest, DateTime?, CancellationToken, Task<TResponse>> call, TRequest request, DateTime? deadline, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await call(inner, request, deadline, cancellationToken).ConfigureAwait(false);
            }
            catch (RpcException e) when (attempt < MaxRetries && RetryAfter(e) is { } wait && Fits(wait, deadline))
            {
                await Task.Delay(wait, time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private bool Fits(TimeSpan wait, DateTime? deadline) => deadline is not { } end || time.GetUtcNow().UtcDateTime + wait < end;
}
