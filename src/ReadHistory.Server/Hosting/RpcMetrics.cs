using System.Collections.Concurrent;
using Grpc.Core;
using Prometheus;

namespace ReadHistory.Server.Hosting;

/// <summary>
/// Per-method request count by status and latency histogram for every gRPC method this process serves:
/// readhistory_rpc_requests_total{role,method,code} and readhistory_rpc_request_duration_seconds{role,method}
/// (pattern: docs/metrics.md, "Adding a metric"); <see cref="RpcMetricsInterceptor"/> records every call.
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

    // The children of each method, found once: a call then records without a label lookup or an allocation.
    private readonly ConcurrentDictionary<string, MethodSeries> _methods = new(StringComparer.Ordinal);

    /// <summary>Creates the series in <paramref name="registry"/> (a registry of its own when null); <paramref name="role"/> labels every series (proxy, cache, all, ...).</summary>
    public RpcMetrics(CollectorRegistry? registry, string role)
    {
        _role = role;
        var factory = Metrics.WithCustomRegistry(registry ?? Metrics.NewCustomRegistry());
        _requests = factory.CreateCounter("readhistory_rpc_requests_total", "gRPC calls served, by method and status code.", "code", "method", "role");
        _duration = factory.CreateHistogram("readhistory_rpc_request_duration_seconds", "Time from the call's arrival to its status, by method.",
            new HistogramConfiguration { LabelNames = ["method", "role"], Buckets = LatencyBuckets });
    }

    /// <summary>Counts one finished call of <paramref name="method"/> with its status and time (called by <see cref="RpcMetricsInterceptor"/>).</summary>
    public void Record(string method, StatusCode code, TimeSpan elapsed)
    {
        var series = _methods.GetOrAdd(method, static (name, owner) => new MethodSeries(owner, name), this);
        var index = (uint)code < (uint)CodeNames.Length ? (int)code : (int)StatusCode.Unknown;
        var requests = Volatile.Read(ref series.Requests[index]) ?? series.AddRequests(index);
        requests.Inc();
        series.Duration.Observe(elapsed.TotalSeconds);
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
