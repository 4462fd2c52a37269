namespace ReadHistory.Server.Hosting;

/// <summary>Restricts mapped endpoints to gRPC listeners.</summary>
internal static class ListenerEndpointExtensions
{
    /// <summary>
    /// Serves the endpoints of <paramref name="builder"/> only on connections accepted by <paramref name="listeners"/>
    /// (by the connection's listener, never by its Host header, which a client may set to anything: RequireHost would
    /// let a caller of the public port name the internal one).
    /// </summary>
    public static TBuilder ServedOn<TBuilder>(this TBuilder builder, params GrpcListener[] listeners)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        var metadata = new ServedOnAttribute(listeners);
        builder.Add(endpoint =>
        {
            // Only a method's own endpoint (a literal path). Grpc.AspNetCore adds its UNIMPLEMENTED catch-alls (a route
            // with parameters) through the conventions of whichever service is mapped first; they must answer on every
            // listener, or a call of a method not served on one would get an HTTP 404 instead of UNIMPLEMENTED.
            if (endpoint is RouteEndpointBuilder { RoutePattern.Parameters.Count: 0 })
            {
                endpoint.Metadata.Add(metadata);
            }
        });
        return builder;
    }
}
