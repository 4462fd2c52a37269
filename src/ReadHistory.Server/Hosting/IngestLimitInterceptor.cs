using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Options;
using ReadHistory.Server.Api;

namespace ReadHistory.Server.Hosting;

/// <summary>
/// Bounds every client-streaming call (the public Ingest and the internal CacheNode Ingest): at most
/// <see cref="RequestLimits.MaxIngestMessagesPerStream"/> messages (RESOURCE_EXHAUSTED past it), and no wait for the
/// next message longer than <see cref="RequestLimits.IngestIdleTimeout"/> (DEADLINE_EXCEEDED); each status names its
/// limit key. Kestrel's minimum body data rate is off for streams, so these are what ends a stream that never ends.
/// </summary>
internal sealed class IngestLimitInterceptor(IOptions<RequestLimits> limits, TimeProvider time, ILogger<IngestLimitInterceptor> logger) : Interceptor
{
    private readonly long _maxMessages = limits.Value.MaxIngestMessagesPerStream;
    private readonly TimeSpan _idleTimeout = limits.Value.IngestIdleTimeout;

    /// <inheritdoc />
    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        ArgumentNullException.ThrowIfNull(context);
        using var limited = new LimitedStreamReader<TRequest>(requestStream, _maxMessages, _idleTimeout, time, context.CancellationToken);
        try
        {
            return await continuation(limited, context).ConfigureAwait(false);
        }
        catch (RpcException e) when (limited.LimitReached is { } limit)
        {
            var peer = context.Peer;
            var code = e.StatusCode.ToString();
            Log.IngestLimitReached(logger, context.Method, peer, limit, code);
            throw;
        }
    }
}
