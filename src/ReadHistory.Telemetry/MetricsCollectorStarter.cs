using Microsoft.Extensions.Hosting;

namespace ReadHistory.Telemetry;

/// <summary>
/// Creates the collector when the host starts, so measurements recorded before the first scrape are
/// not lost (a singleton is otherwise created on first use).
/// </summary>
internal sealed class MetricsCollectorStarter(MetricsCollector collector) : IHostedService
{
    /// <summary>The collector, held so that it is created with the host.</summary>
    public MetricsCollector Collector { get; } = collector;

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
