using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ReadHistory.Rpc.Server;

/// <summary>Registers the gRPC server's services.</summary>
public static class GrpcServiceCollectionExtensions
{
    /// <summary>Adds routing, the <see cref="GrpcServerOptions"/> and a <see cref="TimeProvider"/> (the system clock unless one is registered).</summary>
    public static IServiceCollection AddGrpcServer(this IServiceCollection services, Action<GrpcServerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddRouting();
        var options = services.AddOptions<GrpcServerOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<GrpcServerMarker>();
        return services;
    }
}
