using System.Buffers;
using System.IO.Compression;
using System.Runtime.InteropServices;
using Google.Protobuf;

namespace ReadHistory.Rpc.Internal;

/// <summary>gzip message compression (the only encoding besides identity that this layer speaks).</summary>
internal static class MessageCompression
{
    /// <summary>True for the encodings this layer can decode.</summary>
    public static bool IsSupported(string encoding) =>
        string.Equals(encoding, GrpcProtocolConstants.GzipEncoding, StringComparison.OrdinalIgnoreCase)
        || string.Equals(encoding, GrpcProtocolConstants.IdentityEncoding, StringComparison.OrdinalIgnoreCase);

    /// <summary>True when a comma-separated <c>grpc-accept-encoding</c> value lists gzip.</summary>
    public static bool AcceptsGzip(string? acceptEncoding)
    {
        if (string.IsNullOrEmpty(acceptEncoding))
        {
            return false;
        }

        foreach (var range in acceptEncoding.AsSpan().Split(','))
        {
            if (acceptEncoding.AsSpan(range).Trim().Equals(GrpcProtocolConstants.GzipEncoding, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Inflates a gzip payload into a rented array (return it to <see cref="ArrayPool{T}.Shared"/>).
    /// More than <paramref name="maxMessageSize"/> inflated bytes is RESOURCE_EXHAUSTED; a corrupt stream is INTERNAL.
    /// </summary>
    public static byte[] Decompress(ReadOnlySequence<byte> payload, int maxMessageSize, out int length)
    {
        if (payload.IsEmpty)
        {
            // Not even a gzip header: a compressed message is never zero bytes long.
            throw new RpcException(GrpcStatuses.FailedToDecompress);
        }

        byte[]? input = null;
        Stream source;
        if (payload.IsSingleSegment && MemoryMarshal.TryGetArray(payload.First, out var segment))
        {
            source = new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false);
        }
        else
        {
            input = ArrayPool<byte>.Shared.Rent((int)payload.Length);
            payload.CopyTo(input);
            source = new MemoryStream(input, 0, (int)payload.Length, writable: false);
        }

        var output = ArrayPool<byte>.Shared.Rent(Math.Max(256, (int)Math.Min(payload.Length * 4, maxMessageSize + 1L)));
        length = 0;
        try
        {
            using var gzip = new GZipStream(source, CompressionMode.Decompress);
            while (true)
            {
                if (length == output.Length)
                {
                    if (length > maxMessageSize)
                    {
                        break;
                    }

                    var bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min(output.Length * 2L, maxMessageSize + 1L));
                    output.AsSpan(0, length).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(output);
                    output = bigger;
                }

                var read = gzip.Read(output, length, output.Length - length);
                if (read == 0)
                {
                    break;
                }

                length += read;
            }

            if (length > maxMessageSize)
            {
                throw new RpcException(GrpcStatuses.ReceivedMessageTooLarge((uint)length, maxMessageSize));
            }

            return output;
        }
        catch (InvalidDataException ex)
        {
            ArrayPool<byte>.Shared.Return(output);
            throw new RpcException(new Status(StatusCode.Internal, GrpcStatuses.FailedToDecompress.Detail, ex));
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(output);
            throw;
        }
        finally
        {
            if (input is not null)
            {
                ArrayPool<byte>.Shared.Return(input);
            }
        }
    }

    /// <summary>Serializes and gzips a message and writes it with its prefix (flag 1).</summary>
    public static void WriteCompressedMessage(IBufferWriter<byte> writer, IMessage message, int size, CompressionLevel level)
    {
        var plain = ArrayPool<byte>.Shared.Rent(Math.Max(size, 1));
        try
        {
            message.WriteTo(plain.AsSpan(0, size));
            WriteCompressedPayload(writer, plain.AsSpan(0, size), level);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(plain);
        }
    }

    /// <summary>Gzips an encoded message and writes it with its prefix (flag 1).</summary>
    public static void WriteCompressedPayload(IBufferWriter<byte> writer, ReadOnlySpan<byte> payload, CompressionLevel level)
    {
        using var compressed = new MemoryStream(payload.Length / 2 + 64);
        using (var gzip = new GZipStream(compressed, level, leaveOpen: true))
        {
            gzip.Write(payload);
        }

        GrpcFraming.WritePayload(writer, compressed.GetBuffer().AsSpan(0, (int)compressed.Length), compressed: true);
    }
}
