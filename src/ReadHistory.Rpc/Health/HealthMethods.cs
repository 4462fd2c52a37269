using ReadHistory.Rpc.Health.V1;

namespace ReadHistory.Rpc.Health;

/// <summary>The methods of grpc.health.v1.Health (grpc/grpc doc/health-checking.md), for servers and for clients that probe.</summary>
public static class HealthMethods
{
    /// <summary>The service's full name.</summary>
    public const string ServiceName = "grpc.health.v1.Health";

    /// <summary>Unary: the current status of a service ("" = the whole server); NOT_FOUND for one never registered.</summary>
    public static readonly Method<HealthCheckRequest, HealthCheckResponse> Check =
        new(MethodType.Unary, ServiceName, "Check", HealthCheckRequest.Parser, HealthCheckResponse.Parser);

    /// <summary>Server streaming: the current status, then every change, until the client cancels.</summary>
    public static readonly Method<HealthCheckRequest, HealthCheckResponse> Watch =
        new(MethodType.ServerStreaming, ServiceName, "Watch", HealthCheckRequest.Parser, HealthCheckResponse.Parser);
}
