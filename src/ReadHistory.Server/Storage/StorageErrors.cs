using System.Net.Sockets;
using MySqlConnector;

namespace ReadHistory.Server.Storage;

/// <summary>Which database errors are worth retrying (<see cref="StorageRetry"/>). Every storage write is idempotent (an upsert, a delete of a user's rows), so a retry after an unknown outcome is safe.</summary>
internal static class StorageErrors
{
    /// <summary>ER_CONNECTION_KILLED (MariaDB): the connection was killed; MySqlConnector's enum has no name for it.</summary>
    private const MySqlErrorCode ConnectionKilled = (MySqlErrorCode)1927;

    /// <summary>
    /// Deadlock, lock wait timeout, too many connections, a lost or unreachable server, an exhausted pool (MySqlConnector
    /// reports those four through <see cref="MySqlException.IsTransient"/>: UnableToConnectToHost covers the last
    /// two), a killed query or connection, a command timeout, a network failure underneath. A cancellation is not
    /// retried: flushes run without a caller's token, so only shutdown cancels them; a forget stops when its caller does.
    /// </summary>
    public static bool IsTransient(Exception exception) => exception switch
    {
        OperationCanceledException => false,
        MySqlException mysql when mysql.IsTransient || mysql.ErrorCode is ConnectionKilled
            or MySqlErrorCode.QueryInterrupted or MySqlErrorCode.CommandTimeoutExpired => true,
        IOException or SocketException or TimeoutException => true,
        _ => exception.InnerException is { } inner && IsTransient(inner),
    };
}
