using ReadHistory.Server.Api;
using ReadHistory.Server.Proxy;

namespace ReadHistory.Server.Hosting;

/// <summary>
/// Starts the proxy's replica health checks once the host has started. Depends on the backend so that the router,
/// its metrics and its limits exist from the start (exported before the first call), not from the first call.
/// </summary>
internal sealed class ReplicaProbing(ReplicaHealthChecker checker, IReadHistoryBackend backend, IHostApplicationLifetime lifetime) : IHostedService
{
    private CancellationTokenRegistration _started;

    /// <summary>The backend this process answers with (held so that it is created with the host).</summary>
    public IReadHistoryBackend Backend => backend;

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _started = lifetime.ApplicationStarted.Register(checker.Start);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken)
    {
        _started.Dispose();
        return Task.CompletedTask;
    }
}
