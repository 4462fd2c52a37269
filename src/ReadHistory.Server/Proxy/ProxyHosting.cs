using Microsoft.Extensions.Options;
using Prometheus;
using ReadHistory.Server.Api;
using ReadHistory.Server.Hosting;

namespace ReadHistory.Server.Proxy;

/// <summary>Wires the proxy role into the container: router, health checks, limits, metrics, topology reload, lifetime.</summary>
internal static class ProxyHosting
{
    /// <summary>
    /// Registers the backend of a proxy that routes to remote cache nodes by ReadHistory:Topology (settings under
    /// ReadHistory:Proxy) as the <see cref="IReadHistoryBackend"/>; probing starts with the host and everything closes
    /// when it stops. Throws <see cref="OptionsValidationException"/> for bad proxy settings, here rather than at the
    /// first call.
    /// </summary>
    public static IServiceCollection AddProxyBackend(this IServiceCollection services, IConfiguration configuration, ReadHistoryOptions options)
    {
        var proxyOptions = configuration.GetSection(ProxyOptions.Section).Get<ProxyOptions>() ?? new ProxyOptions();
        var problems = new List<string>();
        proxyOptions.Validate(problems);
        if (problems.Count > 0)
        {
            throw new OptionsValidationException(ProxyOptions.Section, typeof(ProxyOptions), problems);
        }

        services.AddSingleton<IReadHistoryBackend>(provider => Create(provider, configuration, options, proxyOptions));
        return services;
    }

    private static ProxyBackend Create(IServiceProvider services, IConfiguration configuration, ReadHistoryOptions options, ProxyOptions proxyOptions)
    {
        var time = services.GetRequiredService<TimeProvider>();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("ReadHistory.Proxy");
        var lifetime = services.GetRequiredService<IHostApplicationLifetime>();
        var router = new ProxyRouter(options.Topology, proxyOptions, time, logger);
        router.WatchConfiguration(configuration);
        var metrics = new ProxyMetrics(services.GetRequiredService<CollectorRegistry>(), router);
        var limiter = new TenantLimiter(proxyOptions, metrics);
        var checker = new ReplicaHealthChecker(router, proxyOptions, time, logger);
        lifetime.ApplicationStarted.Register(checker.Start);
        lifetime.ApplicationStopped.Register(() =>
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
