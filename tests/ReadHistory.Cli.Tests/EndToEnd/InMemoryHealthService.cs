using Grpc.Core;
using Grpc.Health.V1;

namespace ReadHistory.Cli.Tests.EndToEnd;

/// <summary>The double's grpc.health.v1 service: SERVING for "" and the ReadHistory service, NOT_FOUND naming any other.</summary>
internal sealed class InMemoryHealthService : Health.HealthBase
{
    private static readonly string ReadHistoryService = ReadHistory.Api.V1.ReadHistory.Descriptor.FullName;

    public override Task<HealthCheckResponse> Check(HealthCheckRequest request, ServerCallContext context) =>
        request.Service.Length == 0 || request.Service == ReadHistoryService
            ? Task.FromResult(new HealthCheckResponse { Status = HealthCheckResponse.Types.ServingStatus.Serving })
            : throw new RpcException(new Status(StatusCode.NotFound, $"unknown service '{request.Service}'"));
}
