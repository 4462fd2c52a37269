using Grpc.Core;

namespace ReadHistory.Server.Api.Internal;

/// <summary>
/// The call context of one request of an Exchange stream, as the handlers of the unary calls expect it: the stream's
/// method, peer and headers, the request's own deadline (its timeout_micros) and a cancellation of its own, fired by
/// that deadline, by a cancel message for the request, or by the end of the stream.
/// </summary>
internal sealed class ExchangeCallContext : ServerCallContext, IDisposable
{
    private readonly ServerCallContext _stream;
    private readonly CancellationTokenSource _cancellation;
    private readonly DateTime _deadline;
    private Metadata? _trailers;

    /// <summary>A context for request <paramref name="id"/> of <paramref name="method"/>, bounded by <paramref name="timeout"/> when it is positive.</summary>
    public ExchangeCallContext(ServerCallContext stream, string method, ulong id, TimeSpan timeout, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(time);
        _stream = stream;
        Id = id;
        MethodName = method;
        if (timeout > TimeSpan.Zero)
        {
            _cancellation = new CancellationTokenSource(timeout, time);
            _deadline = time.GetUtcNow().UtcDateTime + timeout;
        }
        else
        {
            _cancellation = new CancellationTokenSource();
            _deadline = DateTime.MaxValue;
        }
    }

    /// <summary>The request's id on its stream.</summary>
    public ulong Id { get; }

    /// <summary>The full name of the unary method the request stands for ("/readhistory.internal.v1.CacheNode/Check").</summary>
    public string MethodName { get; }

    /// <summary>Whether the sender cancelled the request (it waits for no answer).</summary>
    public bool CancelledBySender { get; private set; }

    /// <summary>Stops the work on the request because its sender no longer waits for it.</summary>
    public void CancelBySender()
    {
        CancelledBySender = true;
        Cancel();
    }

    /// <summary>Stops the work on the request (the stream ended).</summary>
    public void Cancel()
    {
        try
        {
            _cancellation.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The request finished meanwhile.
        }
    }

    /// <inheritdoc />
    public void Dispose() => _cancellation.Dispose();

    /// <inheritdoc />
    protected override string MethodCore => MethodName;

    /// <inheritdoc />
    protected override string HostCore => _stream.Host;

    /// <inheritdoc />
    protected override string PeerCore => _stream.Peer;

    /// <inheritdoc />
    protected override DateTime DeadlineCore => _deadline;

    /// <inheritdoc />
    protected override Metadata RequestHeadersCore => _stream.RequestHeaders;

    /// <inheritdoc />
    protected override CancellationToken CancellationTokenCore => _cancellation.Token;

    /// <inheritdoc />
    protected override Metadata ResponseTrailersCore => _trailers ??= [];

    /// <inheritdoc />
    protected override Status StatusCore { get; set; }

    /// <inheritdoc />
    protected override WriteOptions? WriteOptionsCore { get; set; }

    /// <inheritdoc />
    protected override AuthContext AuthContextCore => _stream.AuthContext;

    /// <inheritdoc />
    protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) =>
        throw new NotSupportedException("a request of an Exchange stream does not propagate its context");

    /// <inheritdoc />
    protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) =>
        throw new NotSupportedException("a request of an Exchange stream has no headers of its own");
}
