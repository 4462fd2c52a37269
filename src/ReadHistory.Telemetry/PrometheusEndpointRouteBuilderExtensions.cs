using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace ReadHistory.Telemetry;

/// <summary>Maps the Prometheus scrape endpoint.</summary>
public static class PrometheusEndpointRouteBuilderExtensions
{
    /// <summary>Answers GET <paramref name="pattern"/> with the text exposition of the registered <see cref="MetricsCollector"/>.</summary>
    public static IEndpointConventionBuilder MapPrometheusMetrics(this IEndpointRouteBuilder endpoints, string pattern = "/metrics") =>
        endpoints.MapGet(pattern, WriteMetricsAsync);

    private static async Task WriteMetricsAsync(HttpContext context)
    {
        var collector = context.RequestServices.GetRequiredService<MetricsCollector>();
        var text = collector.Collect();
        context.Response.ContentType = MetricsCollector.ContentType;
        await context.Response.WriteAsync(text, context.RequestAborted).ConfigureAwait(false);
    }
}
