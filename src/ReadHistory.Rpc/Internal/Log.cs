using Microsoft.Extensions.Logging;

namespace ReadHistory.Rpc.Internal;

/// <summary>Log messages of the gRPC layer; event ids 1000..1099 belong to ReadHistory.Rpc.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1000, Level = LogLevel.Error, Message = "gRPC handler of {Method} threw; answering UNKNOWN")]
    public static partial void HandlerFailed(ILogger logger, string method, Exception exception);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Debug, Message = "gRPC call {Method} ended with {StatusCode}: {Detail}")]
    public static partial void CallFailed(ILogger logger, string method, StatusCode statusCode, string detail);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Debug, Message = "gRPC call {Method} passed its deadline")]
    public static partial void DeadlineExceeded(ILogger logger, string method);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Debug, Message = "gRPC call {Method} was cancelled by the client")]
    public static partial void ClientCancelled(ILogger logger, string method);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Warning, Message = "gRPC call {Method} sent an invalid grpc-timeout '{Value}'; ignored")]
    public static partial void InvalidTimeout(ILogger logger, string method, string value);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Debug, Message = "gRPC request refused with HTTP {HttpStatus}: {Reason}")]
    public static partial void RequestRefused(ILogger logger, int httpStatus, string reason);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Debug, Message = "gRPC call {Method} could not write its status")]
    public static partial void StatusWriteFailed(ILogger logger, string method, Exception exception);
}
