using Grpc.HealthCheck;
using ReadHistory.Server.Cache;
using PublicApi = ReadHistory.Api.V1.ReadHistory;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace ReadHistory.Server.Hosting;

/// <summary>
/// Mirrors /readyz into the gRPC health service ("" and readhistory.v1.ReadHistory), polled once a second, and
/// turns NOT_SERVING as soon as the drain starts so health-checking proxies move traffic away first. Grpc.HealthCheck's
/// service starts with no status at all (a Check of "" would be NOT_FOUND): the first poll sets both.
/// A cache node also reports readhistory.internal.v1.CacheNode: SERVING while ready and fresh, NOT_SERVING while stale
/// (<see cref="NodeFreshness"/>). Staleness is kept out of "" and /readyz on purpose: a CDC or Redis outage makes every
/// node stale at once, and Kubernetes would then take them all out of service and stall rollouts; proxies read the
/// CacheNode status instead and prefer fresh replicas while any is left.
/// </summary>
internal sealed class HealthReporter(HealthServiceImpl health, Readiness readiness, TimeProvider time, IHostApplicationLifetime lifetime, NodeFreshness? freshness = null) : BackgroundService
{
    private static readonly string CacheNodeService = ReadHistory.Api.Internal.V1.CacheNode.Descriptor.FullName;

    private static readonly TimeSpan Period = TimeSpan.FromSeconds(1);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var draining = lifetime.ApplicationStopping.Register(() => Set(ServingStatus.NotServing));
        using var timer = new PeriodicTimer(Period, time);
        do
        {
            Publish(await readiness.NotReadyAsync(stoppingToken).ConfigureAwait(false));
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    /// <summary>Sets the gRPC health from a readiness answer (also called by /readyz, so both agree at once).</summary>
    public void Publish(IReadOnlyList<string> notReady) =>
        Set(notReady.Count == 0 && !lifetime.ApplicationStopping.IsCancellationRequested ? ServingStatus.Serving : ServingStatus.NotServing);

    private void Set(ServingStatus status)
    {
        health.SetStatus(string.Empty, status);
        health.SetStatus(PublicApi.Descriptor.FullName, status);
        if (freshness is not null)
        {
            health.SetStatus(CacheNodeService, status == ServingStatus.Serving && !freshness.IsStale ? ServingStatus.Serving : ServingStatus.NotServing);
        }
    }
}
