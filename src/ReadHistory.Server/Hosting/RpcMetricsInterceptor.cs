using System.Collections.Concurrent;
using System.Diagnostics;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace ReadHistory.Server.Hosting;

/// <summary>
/// Counts and times every unary and client-streaming call of the services it is added to (<see cref="RpcMetrics"/>),
/// labelled by method: "Check" for readhistory.v1.ReadHistory, "CacheNode.Check" for the internal CacheNode service.
/// A call whose client went away (cancelled, stream reset) or whose deadline passed ends as CANCELLED or
/// DEADLINE_EXCEEDED, never UNKNOWN, and is logged at debug level without a stack trace: it is no server fault.
/// Server-streaming calls (warm start's Snapshot) pass through uncounted, as before the move to Grpc.AspNetCore.
/// </summary>
internal sealed class RpcMetricsInterceptor(RpcMetrics metrics, TimeProvider time, ILogger<RpcMetricsInterceptor> logger) : Interceptor
{
    private const string CacheNodeService = "readhistory.internal.v1.CacheNode";

    // "/package.Service/Method" to its label, once per method.
    private static readonly ConcurrentDictionary<string, string> Labels = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        var started = Stopwatch.GetTimestamp();
        Task<TResponse> call;
        try
        {
            call = continuation(request, context);
        }
        catch (Exception e)
        {
            call = Task.FromException<TResponse>(e);
        }

        return ObserveAsync(call, context, started);
    }

    /// <inheritdoc />
    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        var started = Stopwatch.GetTimestamp();
        Task<TResponse> call;
        try
        {
            call = continuation(requestStream, context);
        }
        catch (Exception e)
        {
            call = Task.FromException<TResponse>(e);
        }

        return ObserveAsync(call, context, started);
    }

    /// <summary>The metric label of a call's method.</summary>
    internal static string LabelOf(ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return LabelOf(context.Method);
    }

    /// <summary>The metric label of a method by its full name ("/package.Service/Method").</summary>
    internal static string LabelOf(string fullName) =>
        Labels.GetOrAdd(fullName, static fullName =>
        {
            var slash = fullName.LastIndexOf('/');
            var service = fullName.AsSpan(1, Math.Max(0, slash - 1));
            var name = fullName[(slash + 1)..];
            return service.SequenceEqual(CacheNodeService) ? "CacheNode." + name : name;
        });

    // One path for both kinds of call: the handler's task is passed in (no closure per call), its start time taken before it ran.
    private async Task<TResponse> ObserveAsync<TResponse>(Task<TResponse> call, ServerCallContext context, long started)
    {
        var code = StatusCode.Unknown;
        try
        {
            var response = await call.ConfigureAwait(false);
            code = StatusCode.OK;
            return response;
        }
        catch (Exception e)
        {
            code = CodeOf(e, context, time);
            if (Replacement(e, code, context) is { } replacement)
            {
                throw replacement;
            }

            throw;
        }
        finally
        {
            metrics.Record(LabelOf(context), code, Stopwatch.GetElapsedTime(started));
        }
    }

    /// <summary>
    /// The status Grpc.AspNetCore sends for an exception escaping a handler, but for a call the client or its deadline
    /// ended, which the transport would otherwise report (and log) as an UNKNOWN handler failure. Also the status of a
    /// request of an Exchange stream whose handler failed (Api/Internal/ExchangeSession).
    /// </summary>
    internal static StatusCode CodeOf(Exception exception, ServerCallContext context, TimeProvider time) => exception switch
    {
        RpcException rpc => rpc.StatusCode,
        OperationCanceledException or IOException when context.CancellationToken.IsCancellationRequested =>
            context.Deadline <= time.GetUtcNow().UtcDateTime ? StatusCode.DeadlineExceeded : StatusCode.Cancelled,
        _ => StatusCode.Unknown,
    };

    private RpcException? Replacement(Exception exception, StatusCode code, ServerCallContext context)
    {
        if (exception is RpcException || code == StatusCode.Unknown)
        {
            return null;
        }

        if (code == StatusCode.Cancelled)
        {
            Log.CallCancelled(logger, context.Method);
            return new RpcException(new Status(StatusCode.Cancelled, "the client cancelled the call"));
        }

        return new RpcException(new Status(StatusCode.DeadlineExceeded, "Deadline Exceeded"));
    }
}
