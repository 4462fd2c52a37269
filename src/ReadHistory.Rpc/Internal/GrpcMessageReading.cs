using System.Buffers;
using System.IO.Pipelines;
using Google.Protobuf;

namespace ReadHistory.Rpc.Internal;

/// <summary>Reads framed messages off a pipe (the server's request body, the client's response body).</summary>
internal static class GrpcMessageReading
{
    /// <summary>
    /// Reads the next message; null when the stream ends cleanly between messages. A stream that ends inside a message
    /// is INTERNAL ("Incomplete message."); an oversize prefix is RESOURCE_EXHAUSTED before the message is buffered.
    /// <paramref name="decoder"/>, when given, parses the payload in place of <paramref name="parser"/>.
    /// </summary>
    public static async ValueTask<T?> ReadMessageAsync<T>(PipeReader reader, MessageParser<T> parser, int maxMessageSize, string? encoding, CancellationToken cancellationToken, Func<ReadOnlySequence<byte>, T>? decoder = null)
        where T : class, IMessage<T>
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            T? message = null;
            try
            {
                if (result.IsCanceled)
                {
                    throw new OperationCanceledException("the read was cancelled");
                }

                if (GrpcFraming.TryReadMessage(ref buffer, maxMessageSize, out var header, out var payload))
                {
                    message = MessageDecoder.Decode(parser, header, payload, encoding, maxMessageSize, decoder);
                    return message;
                }

                if (result.IsCompleted)
                {
                    return buffer.Length == 0 ? null : throw new RpcException(GrpcStatuses.IncompleteMessage);
                }
            }
            finally
            {
                if (message is not null)
                {
                    reader.AdvanceTo(buffer.Start);
                }
                else
                {
                    reader.AdvanceTo(buffer.Start, buffer.End);
                }
            }
        }
    }
}
