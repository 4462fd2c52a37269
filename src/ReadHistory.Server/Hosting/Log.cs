using Microsoft.Extensions.Logging;

namespace ReadHistory.Server.Hosting;

/// <summary>
/// Source-generated log methods of the host. Event ids by area: 1000–1099 hosting, 1100–1199 API,
/// 2000–2999 storage, 3000–3999 cache, 4000–4999 coherence / CDC, 5000–5999 proxy.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "readhistory starting: roles {Roles}, gRPC on {GrpcListen}{Tls}, HTTP on {HttpListen}")]
    public static partial void Starting(ILogger logger, string roles, string grpcListen, string tls, string httpListen);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "draining: no new calls; in-flight calls have {GraceSeconds} s to finish")]
    public static partial void Draining(ILogger logger, double graceSeconds);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "stopped")]
    public static partial void Stopped(ILogger logger);

    [LoggerMessage(EventId = 1100, Level = LogLevel.Warning, Message = "{Method} failed with {Code}")]
    public static partial void CallFailed(ILogger logger, string method, string code, Exception exception);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Debug, Message = "{Method}: the client cancelled the call or reset its stream")]
    public static partial void CallCancelled(ILogger logger, string method);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Information, Message = "database open ({Dialect})")]
    public static partial void DatabaseOpened(ILogger logger, Storage.StorageDialectKind dialect);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Warning, Message = "database not reachable; next try in {DelaySeconds} s")]
    public static partial void DatabaseUnreachable(ILogger logger, double delaySeconds, Exception exception);

    [LoggerMessage(EventId = 4100, Level = LogLevel.Information, Message = "coherence: tailing {StreamKey} from {Cursor}")]
    public static partial void CoherenceTailing(ILogger logger, string streamKey, Cdc.StreamCursor cursor);

    [LoggerMessage(EventId = 4101, Level = LogLevel.Warning, Message = "coherence: gap in {StreamKey} ({Reason}); dropped {Users} filters that can no longer be proven coherent")]
    public static partial void CoherenceGap(ILogger logger, string streamKey, string reason, int users);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Warning, Message = "coherence: Redis not reachable; next try in {DelaySeconds} s")]
    public static partial void CoherenceUnreachable(ILogger logger, double delaySeconds, Exception exception);

    [LoggerMessage(EventId = 4103, Level = LogLevel.Information, Message = "coherence: warm, replaying {StreamKey} from the peer's cursor {Cursor} up to {Tail}")]
    public static partial void CoherenceReplaying(ILogger logger, string streamKey, Cdc.StreamCursor cursor, Cdc.StreamCursor tail);

    [LoggerMessage(EventId = 4104, Level = LogLevel.Information, Message = "coherence: {StreamKey} replayed up to {Cursor}; ready")]
    public static partial void CoherenceCaughtUp(ILogger logger, string streamKey, Cdc.StreamCursor cursor);

    [LoggerMessage(EventId = 4105, Level = LogLevel.Information, Message = "warm start: peer {Peer} is not serving; trying the next")]
    public static partial void WarmStartPeerNotServing(ILogger logger, Uri peer);

    [LoggerMessage(EventId = 4106, Level = LogLevel.Warning, Message = "warm start from {Peer} discarded, starting cold: {Reason}")]
    public static partial void WarmStartDiscarded(ILogger logger, Uri peer, string reason);
}
