using Grpc.Core;
using MySqlConnector;
using ReadHistory.Server.Storage;

namespace ReadHistory.Server.Api;

/// <summary>Turns storage failures into the gRPC statuses callers can act on.</summary>
internal static class StorageStatus
{
    /// <summary>The trailer that tells an overloaded caller when to retry.</summary>
    public const string RetryAfterTrailer = "retry-after-ms";

    /// <summary>The RpcException for a storage exception, or null when it is not a storage failure.</summary>
    public static RpcException? From(Exception exception)
    {
        switch (exception)
        {
            case StorageOverloadedException overloaded:
                var trailers = new Metadata { { RetryAfterTrailer, ((long)overloaded.RetryAfter.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture) } };
                return new RpcException(new Status(StatusCode.ResourceExhausted, overloaded.Message), trailers);
            case StorageWriteException write:
                return new RpcException(new Status(StatusCode.Unavailable, "database write failed: " + write.Message));
            case MySqlException database:
                return new RpcException(new Status(StatusCode.Unavailable, "database: " + database.Message));
            case DatabaseNotReadyException notReady:
                return new RpcException(new Status(StatusCode.Unavailable, notReady.Message));
            default:
                return null;
        }
    }
}
