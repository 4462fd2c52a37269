using ReadHistory.Server.Api;
using ReadHistory.Server.Proxy;

namespace ReadHistory.Server.Hosting;

/// <summary>
/// Probes every replica once before the host opens its listeners (so a starting or restarted proxy takes its first
/// calls with its HTTP/2 connections to the nodes open and their health known, instead of paying both inside the
/// callers' deadlines: the chaos suite's proxy restarts failed up to 0.5 % of calls that way on a loaded machine), then
/// keeps probing once the host has started. Between the two, a proxy warms its forwarding path
/// (<see cref="ProxyBackend.WarmUpAsync"/>). Depends on the backend so that the router, its metrics and its limits
/// exist from the start (exported before the first call), not from the first call.
/// </summary>
internal sealed class ReplicaProbing(ReplicaHealthChecker checker, IReadHistoryBackend backend, IHostApplicationLifetime lifetime) : IHostedService
{
    // Each warm-up call's bound: well past a loaded machine's first call, well inside a start's patience.
    private static readonly TimeSpan WarmUpTimeout = TimeSpan.FromSeconds(2);

    private CancellationTokenRegistration _started;

    /// <summary>The backend this process answers with (held so that it is created with the host).</summary>
    public IReadHistoryBackend Backend => backend;

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // Bounded by each probe's own deadline (Proxy:HealthCheckTimeout); a replica that fails it is one failure of
        // the two that take it out of routing, as in any round.
        await checker.ProbeAllAsync(cancellationToken).ConfigureAwait(false);
        if (backend is ProxyBackend proxy)
        {
            await proxy.WarmUpAsync(WarmUpTimeout, cancellationToken).ConfigureAwait(false);
        }

        _started = lifetime.ApplicationStarted.Register(checker.Start);
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken)
    {
        _started.Dispose();
        return Task.CompletedTask;
    }
}
