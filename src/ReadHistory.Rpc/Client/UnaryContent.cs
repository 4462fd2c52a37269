using System.Buffers;
using System.Net;
using Google.Protobuf;
using ReadHistory.Rpc.Internal;

namespace ReadHistory.Rpc.Client;

/// <summary>The body of a call with one request message: the framed message, written in one piece from a rented buffer.</summary>
internal sealed class UnaryContent<T> : HttpContent
    where T : class, IMessage<T>
{
    private readonly T _message;
    private readonly int _size;
    private readonly bool _compress;

    public UnaryContent(T message, int size, bool compress)
    {
        _message = message;
        _size = size;
        _compress = compress;
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        var buffer = ClientFraming.FrameMessage(_message, _size, _compress, out var length);
        try
        {
            await stream.WriteAsync(buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = GrpcProtocolConstants.HeaderSize + _size;
        return !_compress;
    }
}
