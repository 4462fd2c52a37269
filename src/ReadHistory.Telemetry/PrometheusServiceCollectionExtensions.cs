using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ReadHistory.Telemetry;

/// <summary>Registers the Prometheus exposition in a service collection.</summary>
public static class PrometheusServiceCollectionExtensions
{
    /// <summary>Adds a <see cref="MetricsCollector"/> singleton, created when the host starts, configured by <paramref name="configure"/>.</summary>
    public static IServiceCollection AddPrometheusExposition(this IServiceCollection services, Action<PrometheusExpositionOptions>? configure = null)
    {
        var options = services.AddOptions<PrometheusExpositionOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddSingleton(static provider => new MetricsCollector(
            provider.GetRequiredService<IOptions<PrometheusExpositionOptions>>().Value,
            provider.GetService<ILogger<MetricsCollector>>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Microsoft.Extensions.Hosting.IHostedService, MetricsCollectorStarter>());
        return services;
    }
}
