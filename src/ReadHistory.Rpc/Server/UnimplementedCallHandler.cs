using Microsoft.AspNetCore.Http;
using ReadHistory.Rpc.Internal;

namespace ReadHistory.Rpc.Server;

/// <summary>Answers a gRPC request for a method or service nobody mapped: UNIMPLEMENTED, trailers-only.</summary>
internal sealed class UnimplementedCallHandler
{
    private readonly Status _status;
    private readonly GrpcServerSettings _settings;

    public UnimplementedCallHandler(Status status, GrpcServerSettings settings)
    {
        _status = status;
        _settings = settings;
    }

    public Task HandleCallAsync(HttpContext httpContext)
    {
        if (GrpcRequestValidation.TryAccept(httpContext, _settings))
        {
            var response = httpContext.Response;
            response.ContentType = GrpcProtocolConstants.ContentType;
            response.Headers.GrpcStatus = GrpcProtocolConstants.StatusValue(_status.StatusCode);
            response.Headers.GrpcMessage = PercentEncoding.Encode(_status.Detail);
        }

        return Task.CompletedTask;
    }
}
