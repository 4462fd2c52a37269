namespace ReadHistory.Server.Hosting;

/// <summary>
/// Endpoint metadata: the gRPC listeners an endpoint is served on (added with <see cref="ListenerEndpointExtensions.ServedOn"/>).
/// <see cref="ListenerMatcherPolicy"/> drops the endpoint from routing on every other connection, so a call of it there
/// falls through to Grpc.AspNetCore's catch-all and answers UNIMPLEMENTED. Endpoints without it are served everywhere.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = false)]
internal sealed class ServedOnAttribute(params GrpcListener[] listeners) : Attribute
{
    /// <summary>The listeners the endpoint is served on.</summary>
    public IReadOnlyList<GrpcListener> Listeners { get; } = listeners;

    /// <summary>Whether a connection of <paramref name="listener"/> (null: not a gRPC listener, e.g. the HTTP port) may call the endpoint.</summary>
    public bool Allows(GrpcListener? listener) => listener is { } l && Listeners.Contains(l);
}
