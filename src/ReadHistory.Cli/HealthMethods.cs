using ReadHistory.Rpc;
using ReadHistory.Rpc.Health.V1;

namespace ReadHistory.Cli;

/// <summary>The method descriptor of the standard <c>grpc.health.v1.Health</c> Check call.</summary>
public static class HealthMethods
{
    /// <summary>The full service name.</summary>
    public const string ServiceName = "grpc.health.v1.Health";

    /// <summary>Asks whether a service (or the whole server, for an empty name) is serving.</summary>
    public static readonly Method<HealthCheckRequest, HealthCheckResponse> Check =
        new(MethodType.Unary, ServiceName, "Check", HealthCheckRequest.Parser, HealthCheckResponse.Parser);
}
