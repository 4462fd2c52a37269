using Microsoft.Extensions.Primitives;

namespace ReadHistory.Rpc.Internal;

/// <summary>Names and values of the gRPC-over-HTTP/2 protocol (grpc/grpc doc/PROTOCOL-HTTP2.md), in one place.</summary>
internal static class GrpcProtocolConstants
{
    public const string ContentType = "application/grpc";
    public const string ContentTypeProto = "application/grpc+proto";
    public const string StatusTrailer = "grpc-status";
    public const string MessageTrailer = "grpc-message";
    public const string TimeoutHeader = "grpc-timeout";
    public const string EncodingHeader = "grpc-encoding";
    public const string AcceptEncodingHeader = "grpc-accept-encoding";
    public const string TeHeader = "te";
    public const string TeTrailers = "trailers";
    public const string UserAgent = "grpc-dotnet-readhistory/1.0";
    public const string IdentityEncoding = "identity";
    public const string GzipEncoding = "gzip";

    /// <summary>What this implementation decodes, sent as <c>grpc-accept-encoding</c>.</summary>
    public const string AcceptedEncodings = "identity,gzip";

    /// <summary>Size of the message prefix: 1 flag byte and a 4-byte big-endian length.</summary>
    public const int HeaderSize = 5;

    /// <summary>The receive limit when none is configured (grpc's default), 4 MiB.</summary>
    public const int DefaultMaxReceiveMessageSize = 4 * 1024 * 1024;

    public static readonly StringValues ContentTypeValue = new(ContentType);
    public static readonly StringValues AcceptedEncodingsValue = new(AcceptedEncodings);
    public static readonly StringValues GzipEncodingValue = new(GzipEncoding);

    /// <summary><c>grpc-status</c> values for the 17 codes, so no call formats a number.</summary>
    public static readonly StringValues[] StatusValues = CreateStatusValues();

    public static StringValues StatusValue(StatusCode code) =>
        (uint)code < (uint)StatusValues.Length
            ? StatusValues[(int)code]
            : new StringValues(((int)code).ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>True for <c>application/grpc</c>, <c>application/grpc+proto</c> and either with parameters.</summary>
    public static bool IsGrpcContentType(string? contentType)
    {
        if (contentType is null || !contentType.StartsWith(ContentType, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var rest = contentType.AsSpan(ContentType.Length);
        if (rest.StartsWith("+proto", StringComparison.OrdinalIgnoreCase))
        {
            rest = rest["+proto".Length..];
        }

        return rest.IsEmpty || rest[0] == ';';
    }

    /// <summary>True when the value starts with <c>application/grpc</c> at all (the catch-all route's test).</summary>
    public static bool IsAnyGrpcContentType(string? contentType) =>
        contentType is not null && contentType.StartsWith(ContentType, StringComparison.OrdinalIgnoreCase);

    private static StringValues[] CreateStatusValues()
    {
        var values = new StringValues[17];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = new StringValues(i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        return values;
    }
}
