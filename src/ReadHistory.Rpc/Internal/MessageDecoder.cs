using System.Buffers;
using Google.Protobuf;

namespace ReadHistory.Rpc.Internal;

/// <summary>Turns one framed payload into a message: inflates it when flagged, parses it, maps failures to statuses.</summary>
internal static class MessageDecoder
{
    /// <summary>
    /// Parses a payload. <paramref name="encoding"/> is the call's <c>grpc-encoding</c> (null when absent).
    /// A compressed message with no encoding is INTERNAL, with an encoding this layer lacks UNIMPLEMENTED (PROTOCOL-HTTP2.md),
    /// bytes that are not the message INTERNAL. <paramref name="decoder"/>, when given, parses in place of <paramref name="parser"/>.
    /// </summary>
    public static T Decode<T>(MessageParser<T> parser, GrpcFrameHeader header, ReadOnlySequence<byte> payload, string? encoding, int maxMessageSize, Func<ReadOnlySequence<byte>, T>? decoder = null)
        where T : IMessage<T>
    {
        if (!header.Compressed)
        {
            return Parse(parser, decoder, payload);
        }

        if (encoding is null || string.Equals(encoding, GrpcProtocolConstants.IdentityEncoding, StringComparison.OrdinalIgnoreCase))
        {
            throw new RpcException(GrpcStatuses.CompressedWithoutEncoding);
        }

        if (!string.Equals(encoding, GrpcProtocolConstants.GzipEncoding, StringComparison.OrdinalIgnoreCase))
        {
            throw new RpcException(GrpcStatuses.UnsupportedEncoding(encoding));
        }

        var inflated = MessageCompression.Decompress(payload, maxMessageSize, out var length);
        try
        {
            return Parse(parser, decoder, new ReadOnlySequence<byte>(inflated, 0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(inflated);
        }
    }

    private static T Parse<T>(MessageParser<T> parser, Func<ReadOnlySequence<byte>, T>? decoder, ReadOnlySequence<byte> payload)
        where T : IMessage<T>
    {
        try
        {
            return decoder is null ? parser.ParseFrom(payload) : decoder(payload);
        }
        catch (InvalidDataException ex) when (decoder is not null)
        {
            throw new RpcException(new Status(StatusCode.Internal, GrpcStatuses.FailedToDeserialize.Detail + " " + ex.Message, ex));
        }
        catch (Exception ex) when (ex is InvalidProtocolBufferException or ArgumentException or InvalidOperationException)
        {
            throw new RpcException(new Status(StatusCode.Internal, GrpcStatuses.FailedToDeserialize.Detail, ex));
        }
    }
}
