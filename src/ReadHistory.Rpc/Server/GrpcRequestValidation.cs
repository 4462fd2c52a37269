using Microsoft.AspNetCore.Http;
using ReadHistory.Rpc.Internal;

namespace ReadHistory.Rpc.Server;

/// <summary>The HTTP-level checks before a request is a gRPC call: POST, a gRPC content type, HTTP/2.</summary>
internal static class GrpcRequestValidation
{
    /// <summary>Answers and returns false for a request that is not a gRPC call.</summary>
    public static bool TryAccept(HttpContext httpContext, GrpcServerSettings settings)
    {
        var request = httpContext.Request;
        var response = httpContext.Response;
        if (!HttpMethods.IsPost(request.Method))
        {
            response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            response.Headers.Allow = "POST";
            Log.RequestRefused(settings.Logger, StatusCodes.Status405MethodNotAllowed, "not POST");
            return false;
        }

        if (!GrpcProtocolConstants.IsGrpcContentType(request.ContentType))
        {
            // PROTOCOL-HTTP2.md: a non-gRPC content type SHOULD get 415, so that no HTTP client mistakes the answer for success.
            response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
            Log.RequestRefused(settings.Logger, StatusCodes.Status415UnsupportedMediaType, "content type");
            return false;
        }

        if (!HttpProtocol.IsHttp2(request.Protocol) && !HttpProtocol.IsHttp3(request.Protocol))
        {
            // Trailers, which carry the status, need HTTP/2.
            response.StatusCode = StatusCodes.Status426UpgradeRequired;
            Log.RequestRefused(settings.Logger, StatusCodes.Status426UpgradeRequired, request.Protocol);
            return false;
        }

        return true;
    }
}
