using System.Collections.Concurrent;
using System.Diagnostics;
using Prometheus;
using ReadHistory.Rpc;

namespace ReadHistory.Server.Hosting;

/// <summary>
/// Per-method request count by status and latency histogram for every gRPC method this process serves:
/// readhistory_rpc_requests_total{code,method,role} and readhistory_rpc_request_duration_seconds{method,role}
/// (pattern: docs/metrics.md, "Adding a metric").
/// </summary>
internal sealed class RpcMetrics
{
    private static readonly string[] CodeNames =
    [
        "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
        "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
        "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
    ];

    private static readonly double[] LatencyBuckets =
        [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly Counter _requests;
    private readonly Histogram _duration;
    private readonly string _role;
    private readonly TimeProvider _time;

    // The children of each method, found once: a call then records without a label lookup or an allocation.
    private readonly ConcurrentDictionary<string, MethodSeries> _methods = new(StringComparer.Ordinal);

    /// <summary>Creates the series in <paramref name="registry"/>; <paramref name="role"/> labels every series (proxy, cache, all, ...).</summary>
    public RpcMetrics(CollectorRegistry registry, string role, TimeProvider time)
    {
        _time = time;
        _role = role;
        var factory = Metrics.WithCustomRegistry(registry);
        _requests = factory.CreateCounter("readhistory_rpc_requests_total", "gRPC calls served, by method and status code.", "code", "method", "role");
        _duration = factory.CreateHistogram("readhistory_rpc_request_duration_seconds", "Time from the call's arrival to its status, by method.",
            new HistogramConfiguration { LabelNames = ["method", "role"], Buckets = LatencyBuckets });
    }

    /// <summary>Wraps a unary handler so that every call is counted and timed.</summary>
    public UnaryServerMethod<TRequest, TResponse> Instrument<TRequest, TResponse>(string method, UnaryServerMethod<TRequest, TResponse> handler)
        where TRequest : class
        where TResponse : class =>
        (request, context) => ObserveAsync(method, context, Stopwatch.GetTimestamp(), handler(request, context));

    /// <summary>Wraps a client-streaming handler so that every call is counted and timed.</summary>
    public ClientStreamingServerMethod<TRequest, TResponse> Instrument<TRequest, TResponse>(string method, ClientStreamingServerMethod<TRequest, TResponse> handler)
        where TRequest : class
        where TResponse : class =>
        (requests, context) => ObserveAsync(method, context, Stopwatch.GetTimestamp(), handler(requests, context));

    // Handlers are async methods, so their failures arrive in the task; the start time is taken before the handler runs.
    private async Task<TResponse> ObserveAsync<TResponse>(string method, ServerCallContext context, long started, Task<TResponse> call)
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
            code = CodeOf(e, context);
            throw;
        }
        finally
        {
            Record(method, code, started);
        }
    }

    // The status the gRPC layer will send for an exception escaping a handler.
    private StatusCode CodeOf(Exception exception, ServerCallContext context) => exception switch
    {
        RpcException rpc => rpc.StatusCode,
        OperationCanceledException when context.CancellationToken.IsCancellationRequested =>
            context.Deadline <= _time.GetUtcNow().UtcDateTime ? StatusCode.DeadlineExceeded : StatusCode.Cancelled,
        _ => StatusCode.Unknown,
    };

    private void Record(string method, StatusCode code, long started)
    {
        var series = _methods.GetOrAdd(method, static (name, owner) => new MethodSeries(owner, name), this);
        var index = (uint)code < (uint)CodeNames.Length ? (int)code : (int)StatusCode.Unknown;
        var requests = Volatile.Read(ref series.Requests[index]) ?? series.AddRequests(index);
        requests.Inc();
        series.Duration.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
    }

    /// <summary>The children of one method: its duration and, made on first use, its count per status code.</summary>
    private sealed class MethodSeries(RpcMetrics owner, string method)
    {
        public Histogram.Child Duration { get; } = owner._duration.WithLabels(method, owner._role);

        public Counter.Child?[] Requests { get; } = new Counter.Child?[CodeNames.Length];

        public Counter.Child AddRequests(int code)
        {
            // Two racing calls get the same child: the registry hands out one child per label set.
            var child = owner._requests.WithLabels(CodeNames[code], method, owner._role);
            Volatile.Write(ref Requests[code], child);
            return child;
        }
    }
}
