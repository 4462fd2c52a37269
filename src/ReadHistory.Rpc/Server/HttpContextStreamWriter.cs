using Google.Protobuf;

namespace ReadHistory.Rpc.Server;

/// <summary>The response stream a server-streaming handler writes; each write is flushed.</summary>
internal sealed class HttpContextStreamWriter<T> : IServerStreamWriter<T>, IEncodedStreamWriter
    where T : class, IMessage<T>
{
    private readonly HttpServerCallContext _call;
    private bool _writing;
    private bool _completed;

    public HttpContextStreamWriter(HttpServerCallContext call)
    {
        _call = call;
    }

    public Task WriteAsync(T message) => WriteAsync(message, CancellationToken.None);

    public Task WriteAsync(T message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        return WriteAsync(message, ReadOnlyMemory<byte>.Empty, cancellationToken);
    }

    public Task WriteEncodedAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken) =>
        WriteAsync(null, message, cancellationToken);

    // Writes message, or when it is null the encoded message, then flushes.
    private async Task WriteAsync(T? message, ReadOnlyMemory<byte> encoded, CancellationToken cancellationToken)
    {
        if (_completed)
        {
            throw new InvalidOperationException("Can't write the message because the call is complete.");
        }

        if (_writing)
        {
            throw new InvalidOperationException("Can't write the message because the previous write is in progress.");
        }

        var callToken = _call.CancellationToken;
        callToken.ThrowIfCancellationRequested();
        cancellationToken.ThrowIfCancellationRequested();
        _writing = true;
        CancellationTokenSource? linked = null;
        try
        {
            var token = callToken;
            if (cancellationToken.CanBeCanceled && cancellationToken != callToken)
            {
                // Both the caller's token and the call's deadline must stop a write stuck on flow control.
                linked = CancellationTokenSource.CreateLinkedTokenSource(callToken, cancellationToken);
                token = linked.Token;
            }

            if (message is not null)
            {
                _call.WriteMessage(message);
            }
            else
            {
                _call.WriteEncodedMessage(encoded.Span);
            }

            await _call.FlushAsync(token).ConfigureAwait(false);
        }
        finally
        {
            linked?.Dispose();
            _writing = false;
        }
    }

    /// <summary>Refuses writes once the handler has returned.</summary>
    public void Complete() => _completed = true;
}
