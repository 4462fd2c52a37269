using System.Buffers;
using Google.Protobuf;

namespace ReadHistory.Rpc.Internal;

/// <summary>Splits a byte sequence into gRPC messages and writes framed messages (see <see cref="GrpcFrameHeader"/>).</summary>
internal static class GrpcFraming
{
    /// <summary>
    /// Takes one whole message off the front of <paramref name="buffer"/>. Returns false, leaving the buffer as it was,
    /// while fewer bytes than the prefix announces have arrived. The prefix is checked (flag, limit) as soon as its
    /// five bytes are there, so an oversize message is refused before any of it is buffered.
    /// </summary>
    public static bool TryReadMessage(ref ReadOnlySequence<byte> buffer, int maxMessageSize, out GrpcFrameHeader header, out ReadOnlySequence<byte> payload)
    {
        if (buffer.Length < GrpcProtocolConstants.HeaderSize)
        {
            header = default;
            payload = default;
            return false;
        }

        var first = buffer.FirstSpan;
        if (first.Length >= GrpcProtocolConstants.HeaderSize)
        {
            header = GrpcFrameHeader.Create(first, maxMessageSize);
        }
        else
        {
            Span<byte> prefix = stackalloc byte[GrpcProtocolConstants.HeaderSize];
            buffer.Slice(0, GrpcProtocolConstants.HeaderSize).CopyTo(prefix);
            header = GrpcFrameHeader.Create(prefix, maxMessageSize);
        }

        var total = GrpcProtocolConstants.HeaderSize + (long)header.Length;
        if (buffer.Length < total)
        {
            payload = default;
            return false;
        }

        payload = buffer.Slice(GrpcProtocolConstants.HeaderSize, header.Length);
        buffer = buffer.Slice(total);
        return true;
    }

    /// <summary>Writes a message with its prefix into <paramref name="writer"/>, uncompressed; <paramref name="size"/> is its <c>CalculateSize()</c>.</summary>
    public static void WriteMessage(IBufferWriter<byte> writer, IMessage message, int size)
    {
        var span = writer.GetSpan(GrpcProtocolConstants.HeaderSize + size);
        GrpcFrameHeader.Write(span, compressed: false, size);
        message.WriteTo(span.Slice(GrpcProtocolConstants.HeaderSize, size));
        writer.Advance(GrpcProtocolConstants.HeaderSize + size);
    }

    /// <summary>Writes an already encoded payload with its prefix.</summary>
    public static void WritePayload(IBufferWriter<byte> writer, ReadOnlySpan<byte> payload, bool compressed)
    {
        var span = writer.GetSpan(GrpcProtocolConstants.HeaderSize + payload.Length);
        GrpcFrameHeader.Write(span, compressed, payload.Length);
        payload.CopyTo(span[GrpcProtocolConstants.HeaderSize..]);
        writer.Advance(GrpcProtocolConstants.HeaderSize + payload.Length);
    }
}
