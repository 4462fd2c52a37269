using Polly.CircuitBreaker;
using Grpc.Core;
using ReadHistory.Server.Api;

namespace ReadHistory.Server.Proxy;

/// <summary>Which failures of a call say "this replica could not answer" (try the next one) rather than "the answer is no".</summary>
internal static class ReplicaFailures
{
    /// <summary>
    /// UNAVAILABLE (connection refused or reset, node draining), DEADLINE_EXCEEDED of the attempt, and the statuses
    /// of a node that broke mid-call are replica failures; every call the proxy forwards is idempotent (reads, and
    /// MarkRead / Forget, which set or clear the same rows again), so another replica may answer it.
    /// INVALID_ARGUMENT, NOT_FOUND, RESOURCE_EXHAUSTED and the like are the node's answer and go back to the caller
    /// (RESOURCE_EXHAUSTED with its retry-after-ms trailer: a node shedding load is alive, and neither another replica
    /// of its overloaded slot nor its breaker should take the refusal as a failure);
    /// so does an UNAVAILABLE the node tagged as its database's failure (<see cref="IsDatabaseFailure"/>).
    /// </summary>
    public static bool IsReplicaFailure(Exception exception) => exception switch
    {
        RpcException rpc => (rpc.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Cancelled
            or StatusCode.Unknown or StatusCode.Internal or StatusCode.Aborted or StatusCode.Unimplemented)
            && !IsDatabaseFailure(rpc),
        BrokenCircuitException or HttpRequestException or IOException or ObjectDisposedException => true,
        _ => false,
    };

    /// <summary>
    /// Whether a replica failure counts against the replica's circuit breaker: all of them except DEADLINE_EXCEEDED.
    /// A call that ran out of time says the replica is slow (overload, a long point query), not that it is gone;
    /// counting it would open the breaker of an overloaded slot's only replica and turn overload into UNAVAILABLE for
    /// every caller. A frozen replica is still taken out by the active health probe, whose own deadline fails it.
    /// </summary>
    public static bool CountsAgainstReplica(Exception exception) =>
        IsReplicaFailure(exception) && exception is not RpcException { StatusCode: StatusCode.DeadlineExceeded };

    /// <summary>
    /// Whether the node answered that its database failed (the <see cref="StorageStatus.CauseTrailer"/> trailer): the
    /// node is alive and every replica of the slot, and every passthrough stand-in, writes to the same database, so
    /// neither another replica nor the breaker would help; moving the session would only send its next reads to a
    /// replica that has not seen its writes.
    /// </summary>
    public static bool IsDatabaseFailure(RpcException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception.StatusCode == StatusCode.Unavailable && exception.Trailers.GetValue(StorageStatus.CauseTrailer) == StorageStatus.DatabaseCause;
    }
}
