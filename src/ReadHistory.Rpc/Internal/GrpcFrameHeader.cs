using System.Buffers.Binary;
using System.Globalization;

namespace ReadHistory.Rpc.Internal;

/// <summary>
/// The 5-byte prefix of every gRPC message (PROTOCOL-HTTP2.md, "Length-Prefixed-Message").
/// <code>
///  +-----------------+------------------------------------+----------------------+
///  | flag (1 byte)   | length (4 bytes, big-endian uint)  | message (length B)   |
///  +-----------------+------------------------------------+----------------------+
///  flag 0 = as is, 1 = compressed with the call's grpc-encoding; any other value is a protocol error.
/// </code>
/// </summary>
internal readonly struct GrpcFrameHeader
{
    private GrpcFrameHeader(bool compressed, int length)
    {
        Compressed = compressed;
        Length = length;
    }

    /// <summary>True when the message is compressed with the call's <c>grpc-encoding</c>.</summary>
    public bool Compressed { get; }

    /// <summary>The message length in bytes (already checked against the limit).</summary>
    public int Length { get; }

    /// <summary>
    /// Reads a prefix and checks it before any of the message is buffered: a bad flag is INTERNAL,
    /// a length over <paramref name="maxMessageSize"/> is RESOURCE_EXHAUSTED.
    /// </summary>
    public static GrpcFrameHeader Create(ReadOnlySpan<byte> header, int maxMessageSize)
    {
        if (header.Length < GrpcProtocolConstants.HeaderSize)
        {
            throw new RpcException(new Status(StatusCode.Internal, string.Create(CultureInfo.InvariantCulture,
                $"Incomplete message header: expected 5 bytes, got {header.Length}.")));
        }

        var flag = header[0];
        if (flag > 1)
        {
            throw new RpcException(new Status(StatusCode.Internal, string.Create(CultureInfo.InvariantCulture,
                $"Unexpected compressed flag value {flag} in message header: expected 0 or 1.")));
        }

        var length = BinaryPrimitives.ReadUInt32BigEndian(header[1..]);
        if (length > (uint)maxMessageSize)
        {
            throw new RpcException(GrpcStatuses.ReceivedMessageTooLarge(length, maxMessageSize));
        }

        return new GrpcFrameHeader(flag == 1, (int)length);
    }

    /// <summary>Writes a prefix into the first 5 bytes of <paramref name="destination"/>.</summary>
    public static void Write(Span<byte> destination, bool compressed, int length)
    {
        destination[0] = compressed ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt32BigEndian(destination[1..], (uint)length);
    }
}
