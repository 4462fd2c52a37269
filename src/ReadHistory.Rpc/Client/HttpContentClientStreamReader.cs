using Google.Protobuf;

namespace ReadHistory.Rpc.Client;

/// <summary>The response stream of a server-streaming call.</summary>
internal sealed class HttpContentClientStreamReader<TRequest, TResponse> : IAsyncStreamReader<TResponse>
    where TRequest : class, IMessage<TRequest>
    where TResponse : class, IMessage<TResponse>
{
    private readonly GrpcCall<TRequest, TResponse> _call;
    private readonly Task<bool> _started;
    private TResponse? _current;
    private bool _reading;
    private bool _ended;

    public HttpContentClientStreamReader(GrpcCall<TRequest, TResponse> call, Task<bool> started)
    {
        _call = call;
        _started = started;
    }

    public TResponse Current => _current ?? throw new InvalidOperationException("no message has been read: call MoveNext first");

    public async Task<bool> MoveNext(CancellationToken cancellationToken)
    {
        if (_reading)
        {
            throw new InvalidOperationException("Can't read the next message because the previous read is still in progress.");
        }

        if (_ended)
        {
            return false;
        }

        _reading = true;
        try
        {
            if (!await _started.WaitAsync(cancellationToken).ConfigureAwait(false))
            {
                // The call ended at its headers: OK means an empty stream, anything else is thrown.
                _ended = true;
                return _call.GetStatus().StatusCode == StatusCode.OK ? false : throw _call.FinishedException();
            }

            _current = await _call.ReadNextAsync(cancellationToken).ConfigureAwait(false);
            _ended = _current is null;
            return !_ended;
        }
        catch (OperationCanceledException ex) when (!_started.IsCompleted)
        {
            throw _call.Fail(ex);
        }
        finally
        {
            _reading = false;
        }
    }
}
