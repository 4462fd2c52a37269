using System.Globalization;

namespace ReadHistory.Rpc;

/// <summary>The outcome of a call: a code and a human-readable detail (sent as <c>grpc-status</c> / <c>grpc-message</c>).</summary>
public readonly struct Status : IEquatable<Status>
{
    /// <summary>The status of a call that succeeded.</summary>
    public static readonly Status DefaultSuccess = new(StatusCode.OK, string.Empty);

    /// <summary>The status of a call that the caller cancelled.</summary>
    public static readonly Status DefaultCancelled = new(StatusCode.Cancelled, string.Empty);

    /// <summary>Creates a status.</summary>
    public Status(StatusCode statusCode, string detail)
        : this(statusCode, detail, null)
    {
    }

    /// <summary>Creates a status that remembers the exception behind it (never sent on the wire).</summary>
    public Status(StatusCode statusCode, string detail, Exception? debugException)
    {
        StatusCode = statusCode;
        Detail = detail ?? string.Empty;
        DebugException = debugException;
    }

    /// <summary>The status code.</summary>
    public StatusCode StatusCode { get; }

    /// <summary>The detail message; empty when there is none.</summary>
    public string Detail { get; }

    /// <summary>The local exception that caused this status, for logs; never sent to the peer.</summary>
    public Exception? DebugException { get; }

    /// <inheritdoc />
    public bool Equals(Status other) => StatusCode == other.StatusCode && string.Equals(Detail, other.Detail, StringComparison.Ordinal);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is Status other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(StatusCode, Detail);

    /// <summary>Same code and detail.</summary>
    public static bool operator ==(Status left, Status right) => left.Equals(right);

    /// <summary>Different code or detail.</summary>
    public static bool operator !=(Status left, Status right) => !left.Equals(right);

    /// <summary>The Grpc.Core text form: <c>Status(StatusCode="NotFound", Detail="...")</c>.</summary>
    public override string ToString() =>
        DebugException is null
            ? string.Create(CultureInfo.InvariantCulture, $"Status(StatusCode=\"{StatusCode}\", Detail=\"{Detail}\")")
            : string.Create(CultureInfo.InvariantCulture, $"Status(StatusCode=\"{StatusCode}\", Detail=\"{Detail}\", DebugException=\"{DebugException.GetType()}: {DebugException.Message}\")");
}
