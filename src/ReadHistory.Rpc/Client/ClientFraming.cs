using System.Buffers;
using System.IO.Compression;
using Google.Protobuf;
using ReadHistory.Rpc.Internal;

namespace ReadHistory.Rpc.Client;

/// <summary>Frames request messages into rented buffers for the HTTP request body.</summary>
internal static class ClientFraming
{
    /// <summary>Frames one message (gzip-compressed when asked) into a rented buffer; return it to <see cref="ArrayPool{T}.Shared"/>.</summary>
    public static byte[] FrameMessage(IMessage message, int size, bool compress, out int length)
    {
        if (!compress)
        {
            length = GrpcProtocolConstants.HeaderSize + size;
            var buffer = ArrayPool<byte>.Shared.Rent(length);
            GrpcFrameHeader.Write(buffer, compressed: false, size);
            message.WriteTo(buffer.AsSpan(GrpcProtocolConstants.HeaderSize, size));
            return buffer;
        }

        var writer = new ArrayBufferWriter<byte>((size / 2) + 64);
        MessageCompression.WriteCompressedMessage(writer, message, size, CompressionLevel.Fastest);
        length = writer.WrittenCount;
        var rented = ArrayPool<byte>.Shared.Rent(length);
        writer.WrittenSpan.CopyTo(rented);
        return rented;
    }
}
