using ReadHistory.Api.V1;
using ReadHistory.Rpc.Health;
using ServingStatus = ReadHistory.Rpc.Health.V1.HealthCheckResponse.Types.ServingStatus;

namespace ReadHistory.Server.Hosting;

/// <summary>
/// Mirrors /readyz into the gRPC health service ("" and readhistory.v1.ReadHistory), polled once a second, and
/// turns NOT_SERVING as soon as the drain starts so health-checking proxies move traffic away first.
/// </summary>
internal sealed class HealthReporter(HealthService health, Readiness readiness, TimeProvider time, IHostApplicationLifetime lifetime) : BackgroundService
{
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(1);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var draining = lifetime.ApplicationStopping.Register(() => Set(ServingStatus.NotServing));
        using var timer = new PeriodicTimer(Period, time);
        do
        {
            var notReady = await readiness.NotReadyAsync(stoppingToken).ConfigureAwait(false);
            Set(notReady.Count == 0 ? ServingStatus.Serving : ServingStatus.NotServing);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    private void Set(ServingStatus status)
    {
        health.SetStatus(string.Empty, status);
        health.SetStatus(ReadHistoryMethods.ServiceName, status);
    }
}
