using Grpc.Core;
using Grpc.Health.V1;

namespace ReadHistory.Server.Proxy;

/// <summary>
/// Active health checks: every replica of the current table gets two grpc.health.v1 Checks each interval, bounded by
/// a timeout, sent together on its channel: "" (the whole server: anything but SERVING in time takes it out of routing
/// until a probe succeeds again) and readhistory.internal.v1.CacheNode (NOT_SERVING: ready but past its staleness
/// bound, so routing prefers its fresh peers; NOT_FOUND, from a node that does not report it: fresh). The passive
/// halves are each endpoint's circuit breaker (failed calls) and the source of its answers (stale or fresh filters).
/// </summary>
internal sealed class ReplicaHealthChecker(ProxyRouter router, ProxyOptions options, TimeProvider time, ILogger logger) : IAsyncDisposable
{
    private const int FailuresToEject = 2;
    private static readonly HealthCheckRequest WholeServer = new();
    private static readonly HealthCheckRequest Freshness = new() { Service = ReadHistory.Api.Internal.V1.CacheNode.Descriptor.FullName };
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;

    /// <summary>Starts probing in the background.</summary>
    public void Start() => _loop = RunAsync(_stop.Token);

    /// <summary>Probes every endpoint of the current table once, in parallel.</summary>
    public Task ProbeAllAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(router.Current.Endpoints().Select(endpoint => ProbeAsync(endpoint, cancellationToken)));

    /// <summary>Stops probing.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    private async Task RunAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.HealthCheckInterval, time);
        do
        {
            await ProbeAllAsync(stoppingToken).ConfigureAwait(false);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    private async Task ProbeAsync(ReplicaEndpoint endpoint, CancellationToken cancellationToken)
    {
        bool healthy;
        bool? stale;
        var timedOut = false;
        try
        {
            var deadline = time.GetUtcNow().UtcDateTime + options.HealthCheckTimeout;
            using var call = endpoint.Health.CheckAsync(WholeServer, new CallOptions(deadline: deadline, cancellationToken: cancellationToken));
            using var fresh = endpoint.Health.CheckAsync(Freshness, new CallOptions(deadline: deadline, cancellationToken: cancellationToken));
            var staleness = IsStaleAsync(fresh.ResponseAsync);
            var response = await call.ResponseAsync.ConfigureAwait(false);
            healthy = response.Status == HealthCheckResponse.Types.ServingStatus.Serving;
            stale = await staleness.ConfigureAwait(false);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            healthy = false;
            stale = null;
            timedOut = e is RpcException { StatusCode: StatusCode.DeadlineExceeded };
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled)
        {
            // Stopping: Grpc.Net.Client reports a cancelled call as CANCELLED, not OperationCanceledException.
            throw new OperationCanceledException("probing stopped", e, cancellationToken);
        }

        if (healthy && stale is { } isStale && endpoint.SetStale(isStale))
        {
            if (isStale)
            {
                Log.ReplicaStale(logger, endpoint.Address);
            }
            else
            {
                Log.ReplicaFresh(logger, endpoint.Address);
            }
        }

        // An overloaded node answers its probe late but still answers calls (refusals for load included): a probe that only
        // ran out of time says nothing against a node that answered within two rounds, so it does not count. A node gone
        // (connection refused) fails at once; a frozen one answers nothing, and its probes count again after the window.
        if (timedOut && endpoint.AnsweredWithin(2 * options.HealthCheckInterval))
        {
            return;
        }

        if (endpoint.SetProbeHealthy(healthy, FailuresToEject))
        {
            if (healthy)
            {
                Log.ReplicaUp(logger, endpoint.Address);
            }
            else
            {
                Log.ReplicaDown(logger, endpoint.Address);
            }
        }
    }

    /// <summary>The CacheNode status: NOT_SERVING = stale; SERVING or not reported (NOT_FOUND) = fresh; null when unknown (failed).</summary>
    private static async Task<bool?> IsStaleAsync(Task<HealthCheckResponse> check)
    {
        try
        {
            return (await check.ConfigureAwait(false)).Status != HealthCheckResponse.Types.ServingStatus.Serving;
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            return false;
        }
        catch (RpcException)
        {
            return null;
        }
    }
}
