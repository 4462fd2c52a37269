using Grpc.Core;
using ReadHistory.Server.Api;

namespace ReadHistory.Server.Hosting;

/// <summary>
/// A request stream with a message count bound and an idle timeout (<see cref="IngestLimitInterceptor"/>). The idle
/// clock runs only while the handler waits in <see cref="MoveNext"/>: a stream the server itself holds back (its
/// read-ahead full) is not idle.
/// </summary>
internal sealed class LimitedStreamReader<T> : IAsyncStreamReader<T>, IDisposable
{
    private const string MaxMessagesKey = RequestLimits.Section + ":" + nameof(RequestLimits.MaxIngestMessagesPerStream);
    private const string IdleTimeoutKey = RequestLimits.Section + ":" + nameof(RequestLimits.IngestIdleTimeout);

    private readonly IAsyncStreamReader<T> _inner;
    private readonly CancellationToken _callToken;
    private readonly long _maxMessages;
    private readonly TimeSpan _idleTimeout;
    private readonly CancellationTokenSource _idle;
    private readonly ITimer _timer;
    private long _messages;

    /// <summary>Wraps the call's request stream; <paramref name="callToken"/> is the call's own cancellation.</summary>
    public LimitedStreamReader(IAsyncStreamReader<T> inner, long maxMessages, TimeSpan idleTimeout, TimeProvider time, CancellationToken callToken)
    {
        _inner = inner;
        _callToken = callToken;
        _maxMessages = maxMessages;
        _idleTimeout = idleTimeout;
        _idle = CancellationTokenSource.CreateLinkedTokenSource(callToken);
        _timer = time.CreateTimer(static state => ((CancellationTokenSource)state!).Cancel(), _idle, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <inheritdoc />
    public T Current => _inner.Current;

    /// <summary>The limit key that ended the stream, or null.</summary>
    public string? LimitReached { get; private set; }

    /// <inheritdoc />
    public async Task<bool> MoveNext(CancellationToken cancellationToken)
    {
        bool more;
        CancellationTokenSource? linked = null;
        try
        {
            // The handler passes the call's token (or none): the idle source already follows it. Any other token is linked.
            var token = !cancellationToken.CanBeCanceled || cancellationToken == _callToken
                ? _idle.Token
                : (linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _idle.Token)).Token;
            _timer.Change(_idleTimeout, Timeout.InfiniteTimeSpan);
            more = await _inner.MoveNext(token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_idle.IsCancellationRequested && !_callToken.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            LimitReached = IdleTimeoutKey;
            throw new RpcException(new Status(StatusCode.DeadlineExceeded,
                $"no message arrived for {_idleTimeout.TotalSeconds:0.###} s ({IdleTimeoutKey}); the stream is closed"));
        }
        finally
        {
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            linked?.Dispose();
        }

        if (more && ++_messages > _maxMessages)
        {
            LimitReached = MaxMessagesKey;
            throw new RpcException(new Status(StatusCode.ResourceExhausted,
                $"a stream may send at most {_maxMessages} messages ({MaxMessagesKey}); send the rest on a new stream"));
        }

        return more;
    }

    /// <summary>Stops the idle timer.</summary>
    public void Dispose()
    {
        _timer.Dispose();
        _idle.Dispose();
    }
}
