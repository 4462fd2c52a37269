using System.Net;

namespace ReadHistory.Rpc.Client;

/// <summary>Statuses for answers that carry no grpc-status (grpc/grpc doc/http-grpc-status-mapping.md) and for HTTP/2 stream resets (PROTOCOL-HTTP2.md "Errors").</summary>
internal static class HttpStatusMapping
{
    /// <summary>The gRPC code for a non-200 HTTP status.</summary>
    public static StatusCode FromHttpStatus(HttpStatusCode status) => (int)status switch
    {
        400 => StatusCode.Internal,
        401 => StatusCode.Unauthenticated,
        403 => StatusCode.PermissionDenied,
        404 => StatusCode.Unimplemented,
        429 or 502 or 503 or 504 => StatusCode.Unavailable,
        _ => StatusCode.Unknown,
    };

    /// <summary>The gRPC code for an HTTP/2 RST_STREAM / GOAWAY error code (RFC 9113 section 7).</summary>
    public static StatusCode FromHttp2Error(long errorCode) => errorCode switch
    {
        0x7 => StatusCode.Unavailable,           // REFUSED_STREAM
        0x8 => StatusCode.Cancelled,             // CANCEL
        0xb => StatusCode.ResourceExhausted,     // ENHANCE_YOUR_CALM
        0xc => StatusCode.PermissionDenied,      // INADEQUATE_SECURITY
        _ => StatusCode.Internal,                // NO_ERROR, PROTOCOL_ERROR, INTERNAL_ERROR, FLOW_CONTROL_ERROR, ...
    };
}
