using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ReadHistory.MySql;

/// <summary>Where the client logs (connects, discarded connections, pool exhaustion, query kills). Set once at start-up.</summary>
public static class MySqlLogging
{
    private static ILogger _logger = NullLogger.Instance;

    /// <summary>The logger factory the client logs through (default: none).</summary>
    public static ILoggerFactory LoggerFactory
    {
        set => _logger = value.CreateLogger("ReadHistory.MySql");
    }

    internal static ILogger Logger => _logger;
}

/// <summary>The client's log events.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Debug, "Session {ConnectionId} connected to {Server} (server {ServerVersion}, tls {Tls})")]
    public static partial void Connected(ILogger logger, uint connectionId, string server, string serverVersion, bool tls);

    [LoggerMessage(2, LogLevel.Warning, "Could not connect to {Server}: {Message}")]
    public static partial void ConnectFailed(ILogger logger, string server, string message);

    [LoggerMessage(3, LogLevel.Information, "Session {ConnectionId} is broken and is discarded: {Reason}")]
    public static partial void SessionBroken(ILogger logger, uint connectionId, string reason);

    [LoggerMessage(4, LogLevel.Warning, "Connection pool for {Pool} exhausted: waited {WaitedMs} ms for one of {MaxSize} connections")]
    public static partial void PoolExhausted(ILogger logger, string pool, long waitedMs, uint maxSize);

    [LoggerMessage(5, LogLevel.Information, "Killing the query of session {ConnectionId} ({Reason})")]
    public static partial void KillingQuery(ILogger logger, uint connectionId, string reason);

    [LoggerMessage(6, LogLevel.Warning, "KILL QUERY for session {ConnectionId} failed; closing it: {Message}")]
    public static partial void KillFailed(ILogger logger, uint connectionId, string message);
}
