using Google.Protobuf;

namespace ReadHistory.Rpc.Server;

/// <summary>The request stream a client-streaming handler reads.</summary>
internal sealed class HttpContextStreamReader<T> : IAsyncStreamReader<T>
    where T : class, IMessage<T>
{
    private readonly HttpServerCallContext _call;
    private readonly MessageParser<T> _parser;
    private T? _current;
    private bool _reading;

    public HttpContextStreamReader(HttpServerCallContext call, MessageParser<T> parser)
    {
        _call = call;
        _parser = parser;
    }

    public T Current => _current ?? throw new InvalidOperationException("no message has been read: call MoveNext first");

    public async Task<bool> MoveNext(CancellationToken cancellationToken)
    {
        if (_reading)
        {
            throw new InvalidOperationException("Can't read the next message because the previous read is still in progress.");
        }

        _reading = true;
        CancellationTokenSource? linked = null;
        try
        {
            var callToken = _call.CancellationToken;
            var token = callToken;
            if (cancellationToken.CanBeCanceled && cancellationToken != callToken)
            {
                linked = CancellationTokenSource.CreateLinkedTokenSource(callToken, cancellationToken);
                token = linked.Token;
            }

            _current = await _call.ReadMessageAsync(_parser, token).ConfigureAwait(false);
            return _current is not null;
        }
        finally
        {
            linked?.Dispose();
            _reading = false;
        }
    }
}
