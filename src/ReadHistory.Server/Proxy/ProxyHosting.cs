using Microsoft.Extensions.Options;
using Prometheus;
using ReadHistory.Server.Hosting;

namespace ReadHistory.Server.Proxy;

/// <summary>Wires the proxy role into a built host: router, health checks, limits, metrics, topology reload, lifetime.</summary>
internal static class ProxyHosting
{
    /// <summary>
    /// Creates the backend of a proxy that routes to remote cache nodes by ReadHistory:Topology (settings under
    /// ReadHistory:Proxy); probing starts with the host and everything closes when it stops. Throws
    /// <see cref="OptionsValidationException"/> for bad proxy settings.
    /// </summary>
    public static ProxyBackend CreateProxyBackend(this WebApplication app, ReadHistoryOptions options)
    {
        var proxyOptions = app.Configuration.GetSection(ProxyOptions.Section).Get<ProxyOptions>() ?? new ProxyOptions();
        var problems = new List<string>();
        proxyOptions.Validate(problems);
        if (problems.Count > 0)
        {
            throw new OptionsValidationException(ProxyOptions.Section, typeof(ProxyOptions), problems);
        }

        var time = app.Services.GetRequiredService<TimeProvider>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("ReadHistory.Proxy");
        var router = new ProxyRouter(options.Topology, proxyOptions, time, logger);
        router.WatchConfiguration(app.Configuration);
        var metrics = new ProxyMetrics(app.Services.GetRequiredService<CollectorRegistry>(), router);
        var limiter = new TenantLimiter(proxyOptions, metrics);
        var checker = new ReplicaHealthChecker(router, proxyOptions, time, logger);
        app.Lifetime.ApplicationStarted.Register(checker.Start);
        app.Lifetime.ApplicationStopped.Register(() =>
        {
            // Calls have drained by now; the wait is bounded by one probe's timeout.
            checker.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(5));
            limiter.Dispose();
            metrics.Dispose();
            router.Dispose();
        });
        return new ProxyBackend(router, limiter, metrics, proxyOptions, time, logger);
    }
}
