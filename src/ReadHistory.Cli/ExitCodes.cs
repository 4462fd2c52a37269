using Grpc.Core;

namespace ReadHistory.Cli;

/// <summary>
/// Exit codes: 0 success, 1 usage or input error, and 1 + the gRPC status code for a failed call
/// (2 CANCELLED, 4 INVALID_ARGUMENT, 5 DEADLINE_EXCEEDED, 9 RESOURCE_EXHAUSTED, 15 UNAVAILABLE, ... 17 UNAUTHENTICATED).
/// </summary>
internal static class ExitCodes
{
    /// <summary>The command did what was asked.</summary>
    public const int Success = 0;

    /// <summary>Bad arguments or input; nothing or only part was sent.</summary>
    public const int Usage = 1;

    /// <summary>The exit code of a call that ended with <paramref name="status"/>.</summary>
    public static int FromStatus(StatusCode status) => status == StatusCode.OK ? Success : 1 + (int)status;

    /// <summary>The canonical upper-case name of a status code, as in the gRPC spec (e.g. <c>INVALID_ARGUMENT</c>).</summary>
    public static string StatusName(StatusCode status) => status switch
    {
        StatusCode.OK => "OK",
        StatusCode.Cancelled => "CANCELLED",
        StatusCode.Unknown => "UNKNOWN",
        StatusCode.InvalidArgument => "INVALID_ARGUMENT",
        StatusCode.DeadlineExceeded => "DEADLINE_EXCEEDED",
        StatusCode.NotFound => "NOT_FOUND",
        StatusCode.AlreadyExists => "ALREADY_EXISTS",
        StatusCode.PermissionDenied => "PERMISSION_DENIED",
        StatusCode.ResourceExhausted => "RESOURCE_EXHAUSTED",
        StatusCode.FailedPrecondition => "FAILED_PRECONDITION",
        StatusCode.Aborted => "ABORTED",
        StatusCode.OutOfRange => "OUT_OF_RANGE",
        StatusCode.Unimplemented => "UNIMPLEMENTED",
        StatusCode.Internal => "INTERNAL",
        StatusCode.Unavailable => "UNAVAILABLE",
        StatusCode.DataLoss => "DATA_LOSS",
        StatusCode.Unauthenticated => "UNAUTHENTICATED",
        _ => ((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
