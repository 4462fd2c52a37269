using Grpc.Core;
using MySqlConnector;
using ReadHistory.Server.Storage;

namespace ReadHistory.Server.Api;

/// <summary>Turns storage failures into the gRPC statuses callers can act on.</summary>
internal static class StorageStatus
{
    /// <summary>The trailer that tells an overloaded caller when to retry.</summary>
    public const string RetryAfterTrailer = "retry-after-ms";

    /// <summary>
    /// The trailer that names what failed behind an UNAVAILABLE answer. <see cref="DatabaseCause"/>: the node is up and
    /// answered, its database did not; the proxy neither counts it against the node nor moves the session (every
    /// replica shares that database), and the caller retries as for any UNAVAILABLE.
    /// </summary>
    public const string CauseTrailer = "readhistory-cause";

    /// <summary>The <see cref="CauseTrailer"/> value of a failed database call.</summary>
    public const string DatabaseCause = "database";

    /// <summary>The RpcException for a storage exception, or null when it is not a storage failure.</summary>
    public static RpcException? From(Exception exception)
    {
        switch (exception)
        {
            case StorageOverloadedException overloaded:
                var trailers = new Metadata { { RetryAfterTrailer, ((long)overloaded.RetryAfter.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture) } };
                return new RpcException(new Status(StatusCode.ResourceExhausted, overloaded.Message), trailers);
            case StorageWriteException write:
                return new RpcException(new Status(StatusCode.Unavailable, "database write failed: " + write.Message), DatabaseFailed());
            case MySqlException database:
                return new RpcException(new Status(StatusCode.Unavailable, "database: " + database.Message), DatabaseFailed());
            case DatabaseNotReadyException notReady:
                // Not tagged: this node has not opened its database yet (it is not ready); another replica may have.
                return new RpcException(new Status(StatusCode.Unavailable, notReady.Message));
            default:
                return null;
        }
    }

    // A new collection per answer: the server writes it out, and a shared one could be changed by whoever receives it.
    private static Metadata DatabaseFailed() => new() { { CauseTrailer, DatabaseCause } };
}
