using Grpc.Core;
using Grpc.Health.V1;

namespace ReadHistory.Server.Proxy;

/// <summary>
/// Active health checks: every replica of the current table gets a grpc.health.v1 Check ("" = the whole server)
/// each interval, bounded by a timeout; anything but SERVING in time takes it out of routing until a probe
/// succeeds again. The passive half (ejection on failed calls) is each endpoint's circuit breaker.
/// </summary>
internal sealed class ReplicaHealthChecker(ProxyRouter router, ProxyOptions options, TimeProvider time, ILogger logger) : IAsyncDisposable
{
    private const int FailuresToEject = 2;
    private static readonly HealthCheckRequest WholeServer = new();
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
        try
        {
            var deadline = time.GetUtcNow().UtcDateTime + options.HealthCheckTimeout;
            using var call = endpoint.Health.CheckAsync(WholeServer, new CallOptions(deadline: deadline, cancellationToken: cancellationToken));
            var response = await call.ResponseAsync.ConfigureAwait(false);
            healthy = response.Status == HealthCheckResponse.Types.ServingStatus.Serving;
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            healthy = false;
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled)
        {
            // Stopping: Grpc.Net.Client reports a cancelled call as CANCELLED, not OperationCanceledException.
            throw new OperationCanceledException("probing stopped", e, cancellationToken);
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
}
