using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ReadHistory.Rpc.Internal;

namespace ReadHistory.Rpc.Server;

/// <summary>Maps gRPC services onto ASP.NET Core endpoint routing.</summary>
public static class GrpcEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps each method of the service to <c>/{service}/{method}</c>, plus catch-all routes that answer
    /// UNIMPLEMENTED to gRPC requests for other methods of this service and for unknown services.
    /// </summary>
    public static IEndpointConventionBuilder MapGrpcService(this IEndpointRouteBuilder endpoints, ServerServiceDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(definition);
        var services = endpoints.ServiceProvider;
        var marker = services.GetService<GrpcServerMarker>()
            ?? throw new InvalidOperationException("call services.AddGrpcServer() before MapGrpcService");
        var settings = new GrpcServerSettings(
            services.GetRequiredService<IOptions<GrpcServerOptions>>().Value,
            services.GetRequiredService<TimeProvider>(),
            services.GetRequiredService<ILoggerFactory>().CreateLogger("ReadHistory.Rpc.Server"));

        var builders = new List<IEndpointConventionBuilder>();
        foreach (var method in definition.Methods)
        {
            var handler = method.CreateHandler(settings);
            builders.Add(endpoints.Map(RoutePatternFactory.Parse(method.Method.FullName), handler.HandleCallAsync)
                .WithDisplayName("gRPC " + method.Method.FullName));
        }

        var unimplementedMethod = new UnimplementedCallHandler(GrpcStatuses.MethodUnimplemented, settings);
        builders.Add(endpoints.Map(
                RoutePatternFactory.Parse("/" + definition.ServiceName + "/{unimplementedMethod}", null, GrpcOnlyPolicy("unimplementedMethod")),
                unimplementedMethod.HandleCallAsync)
            .WithDisplayName("gRPC unimplemented method of " + definition.ServiceName));

        if (marker.TryClaimCatchAll())
        {
            var unimplementedService = new UnimplementedCallHandler(GrpcStatuses.ServiceUnimplemented, settings);
            endpoints.Map(
                    RoutePatternFactory.Parse("/{unimplementedService}/{unimplementedMethod}", null, GrpcOnlyPolicy("unimplementedService")),
                    unimplementedService.HandleCallAsync)
                .WithDisplayName("gRPC unimplemented service");
        }

        return new CompositeConventionBuilder(builders);
    }

    private static RouteValueDictionary GrpcOnlyPolicy(string parameter) =>
        new() { [parameter] = new GrpcContentTypeConstraint() };

    /// <summary>Matches only requests whose content type starts with application/grpc, so the catch-alls take nothing else.</summary>
    private sealed class GrpcContentTypeConstraint : IRouteConstraint
    {
        public bool Match(HttpContext? httpContext, IRouter? route, string routeKey, RouteValueDictionary values, RouteDirection routeDirection) =>
            httpContext is not null && GrpcProtocolConstants.IsAnyGrpcContentType(httpContext.Request.ContentType);
    }

    /// <summary>Applies conventions to every endpoint of one service.</summary>
    private sealed class CompositeConventionBuilder(List<IEndpointConventionBuilder> builders) : IEndpointConventionBuilder
    {
        public void Add(Action<EndpointBuilder> convention)
        {
            foreach (var builder in builders)
            {
                builder.Add(convention);
            }
        }
    }
}
