using Microsoft.Extensions.Logging;

namespace ReadHistory.Server.Hosting;

/// <summary>Source-generated log methods of the host and the API interceptor (event ids: see <see cref="EventIds"/>).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = EventIds.HostingStarting, Level = LogLevel.Information, Message = "readhistory starting: roles {Roles}, gRPC on {GrpcListen}, internal gRPC on {InternalGrpcListen}{Tls}, HTTP on {HttpListen}")]
    public static partial void Starting(ILogger logger, string roles, string grpcListen, string internalGrpcListen, string tls, string httpListen);

    [LoggerMessage(EventId = EventIds.HostingDraining, Level = LogLevel.Information, Message = "draining: no new calls; in-flight calls have {GraceSeconds} s to finish")]
    public static partial void Draining(ILogger logger, double graceSeconds);

    [LoggerMessage(EventId = EventIds.HostingAnonymous, Level = LogLevel.Warning, Message = "the public API on {GrpcListen} takes anonymous calls (Auth:Mode Off, Auth:AllowAnonymous true): any caller that reaches it may read and rewrite any tenant's history")]
    public static partial void Anonymous(ILogger logger, string grpcListen);

    [LoggerMessage(EventId = EventIds.HostingStopped, Level = LogLevel.Information, Message = "stopped")]
    public static partial void Stopped(ILogger logger);

    [LoggerMessage(EventId = EventIds.ApiCallFailed, Level = LogLevel.Warning, Message = "{Method} failed with {Code}")]
    public static partial void CallFailed(ILogger logger, string method, string code, Exception exception);

    [LoggerMessage(EventId = EventIds.ApiCallCancelled, Level = LogLevel.Debug, Message = "{Method}: the client cancelled the call or reset its stream")]
    public static partial void CallCancelled(ILogger logger, string method);

    [LoggerMessage(EventId = EventIds.ApiRequestBodyTimedOut, Level = LogLevel.Information, Message = "{Method} from {Peer}: the request message did not arrive within {TimeoutSeconds} s (Limits:RequestBodyTimeout); the call ends with DEADLINE_EXCEEDED, its connection stays")]
    public static partial void RequestBodyTimedOut(ILogger logger, string method, string peer, double timeoutSeconds);

    [LoggerMessage(EventId = EventIds.ApiIngestLimitReached, Level = LogLevel.Information, Message = "{Method} from {Peer}: {Limit} reached; the stream ends with {Code}")]
    public static partial void IngestLimitReached(ILogger logger, string method, string peer, string limit, string code);
}
