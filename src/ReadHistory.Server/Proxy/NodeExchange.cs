using Grpc.Core;

namespace ReadHistory.Server.Proxy;

/// <summary>
/// The Exchange streams of one replica (ReadHistory:Proxy:StreamsPerNode of them, on the replica's channel), used in
/// turn; a stream that broke is replaced by a new one when its turn comes. Several streams, not one: one stream's
/// messages are written by one writer and share one HTTP/2 flow-control window, which caps it (near 58 K requests/s
/// in the experiment behind this design), and a slow large answer delays only its own stream.
/// </summary>
internal sealed class NodeExchange : IDisposable
{
    private readonly ExchangeStream?[] _streams;
    private readonly CallInvoker _invoker;
    private readonly string _address;
    private readonly TimeProvider _time;
    private readonly Lock _opening = new();
    private readonly ILogger? _logger;
    private int _turn;
    private volatile bool _disposed;
    private long _lastBreakLogged;

    /// <summary>Up to <paramref name="streams"/> streams to the node at <paramref name="address"/>, opened when first used.</summary>
    public NodeExchange(CallInvoker invoker, string address, int streams, TimeProvider time, ILogger? logger = null)
    {
        _logger = logger;
        ArgumentOutOfRangeException.ThrowIfLessThan(streams, 1);
        _invoker = invoker;
        _address = address;
        _time = time;
        _streams = new ExchangeStream?[streams];
    }

    /// <summary>Sends one request on the next stream in turn (see <see cref="ExchangeStream.SendAsync"/>).</summary>
    public Task<RelayedAnswer> SendAsync(ExchangeCall call, ForwardedRequest request, DateTime deadline, CancellationToken cancellationToken)
    {
        var index = (int)((uint)Interlocked.Increment(ref _turn) % (uint)_streams.Length);
        var stream = Volatile.Read(ref _streams[index]);
        if (stream is null || stream.IsBroken)
        {
            stream = Open(index);
        }

        return stream.SendAsync(call, request, deadline, cancellationToken);
    }

    /// <summary>Closes every stream (the requests in flight on them fail UNAVAILABLE).</summary>
    public void Dispose()
    {
        lock (_opening)
        {
            _disposed = true;
            foreach (var stream in _streams)
            {
                stream?.Dispose();
            }
        }
    }

    /// <summary>
    /// Hears that one of the streams broke with <paramref name="inFlight"/> requests on it; logs it unless the replica is
    /// being removed, at most once a second per replica (a node that is down breaks every stream opened to it until the
    /// probes take it out of routing).
    /// </summary>
    public void Broke(Exception cause, int inFlight)
    {
        if (_disposed || _logger is null)
        {
            return;
        }

        var now = _time.GetTimestamp();
        var last = Volatile.Read(ref _lastBreakLogged);
        if ((last == 0 || _time.GetElapsedTime(last, now) >= TimeSpan.FromSeconds(1)) && Interlocked.CompareExchange(ref _lastBreakLogged, now, last) == last)
        {
            Log.ExchangeStreamBroke(_logger, _address, inFlight, cause.Message);
        }
    }

    private ExchangeStream Open(int index)
    {
        lock (_opening)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var stream = _streams[index];
            if (stream is null || stream.IsBroken)
            {
                stream = new ExchangeStream(_invoker, _address, _time, this);
                Volatile.Write(ref _streams[index], stream);
            }

            return stream;
        }
    }
}
