using Google.Protobuf;
using ReadHistory.Api.Internal.V1;
using ReadHistory.Api.V1;
using Grpc.Core;
using System.Threading.RateLimiting;
using ReadHistory.Server.Api.Admission;

namespace ReadHistory.Server.Proxy;

/// <summary>The failover walk shared by every forwarded call.</summary>
internal sealed partial class ProxyBackend
{
    // Below this much time left an attempt gets all of it instead of half.
    private static readonly TimeSpan MinSplit = TimeSpan.FromMilliseconds(4);

    /// <summary>
    /// Sends <paramref name="request"/> to the slot's usable replicas in HRW order for <paramref name="key"/>, fresh
    /// ones first, then stale ones (so when every replica is stale, as in a CDC outage, the session keeps its own);
    /// when all fail (or none is usable), to usable nodes of the pool's other slots with passthrough set; as a last
    /// resort to the slot's replicas marked down (the marks may be stale). An answer's source keeps the replica's
    /// stale mark current (<see cref="ObserveFreshness"/>). Every attempt but a nearly late one, or one after which
    /// nothing is left to try, leaves half of the remaining time to the next. Throws UNAVAILABLE naming the pool when
    /// nobody answered, DEADLINE_EXCEEDED when the caller's time ran out first, or the node's own non-failover status. <paramref name="setMoved"/> (writes)
    /// marks an attempt made after another replica of the slot failed this call, so that the node waits until the
    /// session's own replica applied the write before answering (CacheMarkReadRequest.until_peers_applied).
    /// </summary>
    internal Task<TResponse> RouteAsync<TRequest, TResponse>(CallClass callClass, Func<CacheNode.CacheNodeClient, TRequest, CallOptions, AsyncUnaryCall<TResponse>> method, TRequest request, Action<TRequest, bool> setPassthrough, SlotRoute slot, ulong key, DateTime deadline, CancellationToken cancellationToken, Action<TRequest, bool>? setMoved = null)
        where TRequest : class
        where TResponse : class =>
        WalkAsync(static (replica, method, request, deadline, cancellationToken) => replica.CallAsync(method, request, deadline, cancellationToken), callClass, method, request, setPassthrough, setMoved, slot, key, deadline, cancellationToken);

    /// <summary>The same walk for a method with marshallers of its own (<see cref="ForwardingMethods"/>).</summary>
    internal Task<TResponse> RouteAsync<TRequest, TResponse>(CallClass callClass, Method<TRequest, TResponse> method, TRequest request, Action<TRequest, bool> setPassthrough, SlotRoute slot, ulong key, DateTime deadline, CancellationToken cancellationToken, Action<TRequest, bool>? setMoved = null)
        where TRequest : class
        where TResponse : class =>
        WalkAsync(static (replica, method, request, deadline, cancellationToken) => replica.CallAsync(method, request, deadline, cancellationToken), callClass, method, request, setPassthrough, setMoved, slot, key, deadline, cancellationToken);

    // The walk itself; call makes one attempt on a replica (a static lambda: no closure per call).
    private async Task<TResponse> WalkAsync<TMethod, TRequest, TResponse>(Func<ReplicaEndpoint, TMethod, TRequest, DateTime, CancellationToken, Task<TResponse>> call, CallClass callClass, TMethod method, TRequest request, Action<TRequest, bool> setPassthrough, Action<TRequest, bool>? setMoved, SlotRoute slot, ulong key, DateTime deadline, CancellationToken cancellationToken)
        where TRequest : class
        where TResponse : class
    {
        var pool = slot.Pool;
        Exception? last = null;
        var tried = 0;
        int index;
        while ((index = slot.NextRoutable(key, tried)) >= 0)
        {
            setMoved?.Invoke(request, tried != 0);
            tried |= 1 << index;
            var replica = slot.Replicas[index];
            using var permit = Admit(replica, callClass, pool);
            try
            {
                var response = await call(replica, method, request, AttemptDeadline(deadline, pool, alone: IsLastCandidate(slot, key, tried)), cancellationToken).ConfigureAwait(false);
                replica.NoteAnswered();
                ObserveFreshness(replica, response, logger);
                return response;
            }
            catch (Exception e) when (Moves(e, cancellationToken))
            {
                last = e;
                metrics?.Failover(pool.Name);
            }
            catch (RpcException e) when (!ReplicaFailures.IsReplicaFailure(e))
            {
                // The node's own answer (a refusal for load, an invalid argument): it is alive.
                replica.NoteAnswered();
                throw;
            }
        }

        if (options.PassthroughAttempts > 0 && pool.Slots.Count > 1)
        {
            var others = new ReplicaEndpoint?[options.PassthroughAttempts];
            for (var n = 0; n < others.Length; n++)
            {
                var stand = pool.PassthroughCandidate(slot, key, others.AsSpan(0, n));
                if (stand is null)
                {
                    break;
                }

                others[n] = stand;
                using var permit = Admit(stand, callClass, pool);
                setPassthrough(request, true);
                try
                {
                    var response = await call(stand, method, request, AttemptDeadline(deadline, pool, alone: false), cancellationToken).ConfigureAwait(false);
                    metrics?.Passthrough(pool.Name);
                    if (n == 0 && last is null)
                    {
                        Log.Passthrough(logger, pool.Name, slot.Index);
                    }

                    return response;
                }
                catch (Exception e) when (Moves(e, cancellationToken))
                {
                    last = e;
                    metrics?.Failover(pool.Name);
                }
                finally
                {
                    setPassthrough(request, false);
                }
            }
        }

        while ((index = slot.Next(key, tried, usableOnly: false)) >= 0)
        {
            setMoved?.Invoke(request, tried != 0);
            tried |= 1 << index;
            var replica = slot.Replicas[index];
            using var permit = Admit(replica, callClass, pool);
            try
            {
                var response = await call(replica, method, request, AttemptDeadline(deadline, pool, alone: IsLastCandidate(slot, key, tried)), cancellationToken).ConfigureAwait(false);
                replica.NoteAnswered();
                ObserveFreshness(replica, response, logger);
                return response;
            }
            catch (Exception e) when (Moves(e, cancellationToken))
            {
                last = e;
            }
            catch (RpcException e) when (!ReplicaFailures.IsReplicaFailure(e))
            {
                replica.NoteAnswered();
                throw;
            }
        }

        if (time.GetUtcNow().UtcDateTime >= deadline)
        {
            throw new RpcException(new Status(StatusCode.DeadlineExceeded, $"cache pool '{pool.Name}': no replica answered before the deadline", last));
        }

        throw new RpcException(new Status(StatusCode.Unavailable, $"cache pool '{pool.Name}' is unavailable: no replica of slot {slot.Index} nor of another slot answered" + (last is null ? string.Empty : " (last: " + last.Message + ")"), last));
    }

    /// <summary>
    /// Passive staleness: an answer from the replica's stale filters marks it stale at once, one from its fresh filters
    /// marks it fresh (other sources say nothing about its filters). A type test and, on a change only, one write.
    /// </summary>
    internal static void ObserveFreshness<TResponse>(ReplicaEndpoint replica, TResponse response, ILogger logger)
    {
        var source = response switch
        {
            CheckResponse check => check.Source,
            BatchCheckResponse batch => FirstMemorySource(batch),
            RelayedAnswer relayed => relayed.Source,
            RelayedBatch relayed => relayed.Source,
            _ => AnswerSource.Unspecified,
        };

        if (source is AnswerSource.Memory or AnswerSource.MemoryStale && replica.SetStale(source == AnswerSource.MemoryStale))
        {
            if (source == AnswerSource.MemoryStale)
            {
                Log.ReplicaStale(logger, replica.Address);
            }
            else
            {
                Log.ReplicaFresh(logger, replica.Address);
            }
        }
    }

    private static AnswerSource FirstMemorySource(BatchCheckResponse batch)
    {
        foreach (var result in batch.Results)
        {
            if (result.Response is { Source: AnswerSource.Memory or AnswerSource.MemoryStale } answer)
            {
                return answer.Source;
            }
        }

        return AnswerSource.Unspecified;
    }

    /// <summary>
    /// One permit of <paramref name="callClass"/> on <paramref name="replica"/> for an attempt (null when that class is
    /// not bounded per replica); when the replica already has its bound in flight, throws the refusal the node would
    /// answer (RESOURCE_EXHAUSTED with retry-after-ms) without sending the call, as the node's own refusal is returned:
    /// no failover, nothing counted against the replica.
    /// </summary>
    private RateLimitLease? Admit(ReplicaEndpoint replica, CallClass callClass, PoolRoute pool)
    {
        var lease = replica.Enter(callClass);
        if (lease is null || lease.IsAcquired)
        {
            return lease;
        }

        lease.Dispose();
        metrics?.ReplicaRefused(pool.Name, AdmissionControl.NameOf(callClass));
        throw admission.ReplicaRefusal(callClass, replica.Address, replica.InFlightLimit(callClass));
    }

    // A replica failure moves on to the next candidate while the caller still waits and time is left.
    private static bool Moves(Exception e, CancellationToken cancellationToken) =>
        ReplicaFailures.IsReplicaFailure(e) && !cancellationToken.IsCancellationRequested;

    // Whether nothing is left to try after this attempt: no replica of the slot untried (down ones included, the last
    // resort) and no passthrough to other slots. Such an attempt gets the whole remaining time: halving it would only
    // turn a slow answer (an overloaded node, a write waiting for its group commit) into UNAVAILABLE with time left.
    private bool IsLastCandidate(SlotRoute slot, ulong key, int tried) =>
        slot.Next(key, tried, usableOnly: false) < 0 && (options.PassthroughAttempts == 0 || slot.Pool.Slots.Count < 2);

    private DateTime AttemptDeadline(DateTime deadline, PoolRoute pool, bool alone)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var remaining = deadline - now;
        if (remaining <= TimeSpan.Zero)
        {
            throw new RpcException(new Status(StatusCode.DeadlineExceeded, $"cache pool '{pool.Name}': no replica answered before the deadline"));
        }

        return alone || remaining < MinSplit ? deadline : now + (remaining / 2);
    }
}
