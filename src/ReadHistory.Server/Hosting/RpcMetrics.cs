using System.Diagnostics;
using System.Diagnostics.Metrics;
using ReadHistory.Rpc;

namespace ReadHistory.Server.Hosting;

/// <summary>
/// Per-method request count by status and latency histogram for every gRPC method this process serves:
/// readhistory_rpc_requests_total{role,method,code} and readhistory_rpc_request_duration_seconds{role,method}.
/// </summary>
internal sealed class RpcMetrics : IDisposable
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "ReadHistory.Rpc";

    private static readonly string[] CodeNames =
    [
        "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
        "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
        "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
    ];

    private static readonly double[] LatencyBuckets =
        [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly Meter _meter;
    private readonly Counter<long> _requests;
    private readonly Histogram<double> _duration;
    private readonly string _role;
    private readonly TimeProvider _time;

    /// <summary>Creates the instruments; <paramref name="role"/> labels every series (proxy, cache, all, ...).</summary>
    public RpcMetrics(IMeterFactory meterFactory, string role, TimeProvider time)
    {
        _time = time;
        _meter = meterFactory.Create(MeterName);
        _role = role;
        _requests = _meter.CreateCounter<long>("readhistory_rpc_requests_total", description: "gRPC calls served, by method and status code.");
        _duration = _meter.CreateHistogram<double>(
            "readhistory_rpc_request_duration_seconds",
            unit: "s",
            description: "Time from the call's arrival to its status, by method.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
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

    /// <inheritdoc />
    public void Dispose() => _meter.Dispose();

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
        var codeName = (uint)code < (uint)CodeNames.Length ? CodeNames[(int)code] : "UNKNOWN";
        _requests.Add(1, new KeyValuePair<string, object?>("role", _role), new KeyValuePair<string, object?>("method", method), new KeyValuePair<string, object?>("code", codeName));
        _duration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("role", _role), new KeyValuePair<string, object?>("method", method));
    }
}
