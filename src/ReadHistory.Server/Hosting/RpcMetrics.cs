using System.Diagnostics.Metrics;
using Grpc.Core;

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

    /// <summary>Creates the instruments; <paramref name="role"/> labels every series (proxy, cache, all, ...).</summary>
    public RpcMetrics(IMeterFactory meterFactory, string role)
    {
        _meter = meterFactory.Create(MeterName);
        _role = role;
        _requests = _meter.CreateCounter<long>("readhistory_rpc_requests_total", description: "gRPC calls served, by method and status code.");
        _duration = _meter.CreateHistogram<double>(
            "readhistory_rpc_request_duration_seconds",
            unit: "s",
            description: "Time from the call's arrival to its status, by method.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
    }

    /// <inheritdoc />
    public void Dispose() => _meter.Dispose();

    /// <summary>Counts one finished call of <paramref name="method"/> with its status and time (called by <see cref="RpcMetricsInterceptor"/>).</summary>
    public void Record(string method, StatusCode code, TimeSpan elapsed)
    {
        var codeName = (uint)code < (uint)CodeNames.Length ? CodeNames[(int)code] : "UNKNOWN";
        _requests.Add(1, new KeyValuePair<string, object?>("role", _role), new KeyValuePair<string, object?>("method", method), new KeyValuePair<string, object?>("code", codeName));
        _duration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("role", _role), new KeyValuePair<string, object?>("method", method));
    }
}
