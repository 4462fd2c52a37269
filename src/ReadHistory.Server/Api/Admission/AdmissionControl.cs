using System.Collections.Frozen;
using System.Globalization;
using System.Threading.RateLimiting;
using Grpc.Core;

namespace ReadHistory.Server.Api.Admission;

/// <summary>
/// Bounds the calls in flight of one process per <see cref="CallClass"/>, each class with permits of its own (so writes
/// keep theirs however many checks arrive), and refuses a call past its class's bound at once: RESOURCE_EXHAUSTED
/// naming the class and the bound, with a <see cref="RetryAfterTrailer"/> trailer. Nothing waits for a permit: a
/// queue would only move the wait from the caller's retry to the server, past the caller's deadline.
/// </summary>
/// <remarks>
/// The bound is configured, not adaptive: the node's cost is CPU on a fixed number of cores, where concurrency past a
/// small multiple of them only adds queueing, so a bound from Little's law over measured rates holds; an adaptive
/// bound (CoDel-like) needs a queue whose delay it measures, and this one refuses instead of queueing. See
/// docs/operations.md, "Admission control".
/// </remarks>
internal sealed class AdmissionControl : IDisposable
{
    /// <summary>The trailer carrying the retry hint, in milliseconds (the proxy's tenant limits send the same one).</summary>
    public const string RetryAfterTrailer = "retry-after-ms";

    private static readonly FrozenDictionary<string, CallClass> Classes = new Dictionary<string, CallClass>(StringComparer.Ordinal)
    {
        ["/readhistory.v1.ReadHistory/Check"] = CallClass.Checks,
        ["/readhistory.v1.ReadHistory/Filter"] = CallClass.Checks,
        ["/readhistory.v1.ReadHistory/BatchCheck"] = CallClass.Batch,
        ["/readhistory.v1.ReadHistory/MarkRead"] = CallClass.Writes,
        ["/readhistory.v1.ReadHistory/ForgetUser"] = CallClass.Writes,
        ["/readhistory.v1.ReadHistory/Ingest"] = CallClass.Writes,
        ["/readhistory.internal.v1.CacheNode/Check"] = CallClass.Checks,
        ["/readhistory.internal.v1.CacheNode/Filter"] = CallClass.Checks,
        ["/readhistory.internal.v1.CacheNode/BatchCheck"] = CallClass.Batch,
        ["/readhistory.internal.v1.CacheNode/MarkRead"] = CallClass.Writes,
        ["/readhistory.internal.v1.CacheNode/Forget"] = CallClass.Writes,
        ["/readhistory.internal.v1.CacheNode/Ingest"] = CallClass.Writes,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    // Indexed by CallClass; an unbounded class still gets a limiter (of int.MaxValue permits) so its calls in flight are counted.
    private readonly ConcurrencyLimiter[] _limiters = new ConcurrencyLimiter[4];
    private readonly int[] _limits = new int[4];
    private readonly string _scope;
    private readonly string _retryAfterMs;
    private volatile bool _disposed;

    /// <summary>Bounds the classes by <paramref name="limits"/>, the ones of <paramref name="scope"/> ("Node" or "Proxy").</summary>
    public AdmissionControl(AdmissionLimits limits, string scope, TimeSpan retryAfter)
    {
        ArgumentNullException.ThrowIfNull(limits);
        _scope = scope;
        _retryAfterMs = Math.Max(1, (long)Math.Ceiling(retryAfter.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture);
        foreach (var callClass in (ReadOnlySpan<CallClass>)[CallClass.Checks, CallClass.Writes, CallClass.Batch])
        {
            var limit = limits.Of(callClass);
            _limits[(int)callClass] = limit;
            _limiters[(int)callClass] = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
            {
                PermitLimit = limit > 0 ? limit : int.MaxValue,
                QueueLimit = 0,
            });
        }
    }

    /// <summary>The scope whose bounds apply ("Node" or "Proxy"), as in the configuration keys.</summary>
    public string Scope => _scope;

    /// <summary>The class of a call by its full method name ("/package.Service/Method"); <see cref="CallClass.None"/> for the rest.</summary>
    public static CallClass ClassOf(string method) => Classes.GetValueOrDefault(method);

    /// <summary>The configured bound of <paramref name="callClass"/> (0 = not bounded).</summary>
    public int LimitOf(CallClass callClass) => _limits[(int)callClass];

    /// <summary>
    /// Takes one permit of <paramref name="callClass"/>, to dispose when the call (or the Ingest message) is done;
    /// throws the refusal when the class is at its bound. A lease is the limiter's one allocation per admitted call.
    /// </summary>
    public RateLimitLease Enter(CallClass callClass)
    {
        var lease = _limiters[(int)callClass].AttemptAcquire(1);
        if (lease.IsAcquired)
        {
            return lease;
        }

        lease.Dispose();
        throw Refusal(callClass);
    }

    /// <summary>Calls of <paramref name="callClass"/> in flight now.</summary>
    public long InFlight(CallClass callClass)
    {
        var statistics = _disposed ? null : _limiters[(int)callClass].GetStatistics();
        var permits = _limits[(int)callClass] > 0 ? _limits[(int)callClass] : int.MaxValue;
        return statistics is null ? 0 : permits - statistics.CurrentAvailablePermits;
    }

    /// <summary>Calls of <paramref name="callClass"/> admitted since start.</summary>
    public long Admitted(CallClass callClass) => _disposed ? 0 : _limiters[(int)callClass].GetStatistics()?.TotalSuccessfulLeases ?? 0;

    /// <summary>Calls of <paramref name="callClass"/> refused since start.</summary>
    public long Refused(CallClass callClass) => _disposed ? 0 : _limiters[(int)callClass].GetStatistics()?.TotalFailedLeases ?? 0;

    /// <inheritdoc />
    public void Dispose()
    {
        // A registry's scrape callbacks cannot be removed: after this they read nothing.
        _disposed = true;
        foreach (var limiter in _limiters)
        {
            limiter?.Dispose();
        }
    }

    /// <summary>
    /// The refusal of a proxy that did not send a call because <paramref name="replica"/> already had
    /// <paramref name="limit"/> calls of <paramref name="callClass"/> in flight (ReadHistory:Proxy:ReplicaInFlight): the
    /// status and trailer the node would have answered.
    /// </summary>
    public RpcException ReplicaRefusal(CallClass callClass, string replica, int limit) =>
        new(
            new Status(StatusCode.ResourceExhausted, $"overloaded: {NameOf(callClass)} in flight to cache node {replica} are at the proxy's limit of {limit} (ReadHistory:Proxy:ReplicaInFlight:{KeyOf(callClass)}); retry after {_retryAfterMs} ms"),
            new Metadata { { RetryAfterTrailer, _retryAfterMs } });

    private RpcException Refusal(CallClass callClass)
    {
        var name = NameOf(callClass);
        return new RpcException(
            new Status(StatusCode.ResourceExhausted, $"overloaded: {name} in flight are at this {_scope.ToLowerInvariant()}'s limit of {_limits[(int)callClass]} ({AdmissionOptions.Section}:{_scope}:{KeyOf(callClass)}); retry after {_retryAfterMs} ms"),
            new Metadata { { RetryAfterTrailer, _retryAfterMs } });
    }

    /// <summary>The class's label in metrics and messages: "checks", "writes", "batch".</summary>
    public static string NameOf(CallClass callClass) => callClass switch
    {
        CallClass.Checks => "checks",
        CallClass.Writes => "writes",
        CallClass.Batch => "batch",
        _ => "none",
    };

    private static string KeyOf(CallClass callClass) => callClass switch
    {
        CallClass.Checks => nameof(AdmissionLimits.Checks),
        CallClass.Writes => nameof(AdmissionLimits.Writes),
        _ => nameof(AdmissionLimits.Batch),
    };
}
