using System.Net.Sockets;
using ReadHistory.MySql;

namespace ReadHistory.Server.Storage;

/// <summary>Which database errors are worth retrying. Every storage write is an idempotent upsert, so a retry after an unknown outcome is safe.</summary>
internal static class StorageErrors
{
    /// <summary>Deadlock, lock wait timeout, a killed or lost connection, too many connections, a pool or network failure.</summary>
    public static bool IsTransient(Exception exception) => exception switch
    {
        MySqlConnectionException => true,
        MySqlException mysql => mysql.IsTransient || mysql.ErrorCode is MySqlErrorCode.ConnectionKilled
            or MySqlErrorCode.QueryInterrupted or MySqlErrorCode.CommandTimeoutExpired,
        IOException or SocketException or TimeoutException => true,
        _ => exception.InnerException is { } inner && IsTransient(inner),
    };
}
