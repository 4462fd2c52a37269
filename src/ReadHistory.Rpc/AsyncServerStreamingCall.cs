namespace ReadHistory.Rpc;

/// <summary>A running server-streaming call: read responses from <see cref="ResponseStream"/> until it ends.</summary>
/// <typeparam name="TResponse">The response message.</typeparam>
public sealed class AsyncServerStreamingCall<TResponse> : IDisposable
{
    private readonly IClientCallState _state;

    /// <summary>Creates a call from its parts (for fakes and tests).</summary>
    public AsyncServerStreamingCall(IAsyncStreamReader<TResponse> responseStream, Task<Metadata> responseHeadersAsync, Func<Status> getStatusFunc, Func<Metadata> getTrailersFunc, Action disposeAction)
        : this(responseStream, new DelegateCallState(responseHeadersAsync, getStatusFunc, getTrailersFunc, disposeAction))
    {
    }

    internal AsyncServerStreamingCall(IAsyncStreamReader<TResponse> responseStream, IClientCallState state)
    {
        ResponseStream = responseStream;
        _state = state;
    }

    /// <summary>The responses; <c>MoveNext</c> throws <see cref="RpcException"/> when the call ends with a non-OK status.</summary>
    public IAsyncStreamReader<TResponse> ResponseStream { get; }

    /// <summary>The response headers (custom metadata).</summary>
    public Task<Metadata> ResponseHeadersAsync => _state.ResponseHeadersAsync;

    /// <summary>The final status; only once the call has ended.</summary>
    public Status GetStatus() => _state.GetStatus();

    /// <summary>The trailers; only once the call has ended.</summary>
    public Metadata GetTrailers() => _state.GetTrailers();

    /// <summary>Aborts the call if it is still running and frees its resources.</summary>
    public void Dispose() => _state.Dispose();
}
