using System.Runtime.CompilerServices;

namespace ReadHistory.Rpc;

/// <summary>A running client-streaming call: write to <see cref="RequestStream"/>, complete it, await the response.</summary>
/// <typeparam name="TRequest">The request message.</typeparam>
/// <typeparam name="TResponse">The response message.</typeparam>
public sealed class AsyncClientStreamingCall<TRequest, TResponse> : IDisposable
{
    private readonly IClientCallState _state;

    /// <summary>Creates a call from its parts (for fakes and tests).</summary>
    public AsyncClientStreamingCall(IClientStreamWriter<TRequest> requestStream, Task<TResponse> responseAsync, Task<Metadata> responseHeadersAsync, Func<Status> getStatusFunc, Func<Metadata> getTrailersFunc, Action disposeAction)
        : this(requestStream, responseAsync, new DelegateCallState(responseHeadersAsync, getStatusFunc, getTrailersFunc, disposeAction))
    {
    }

    internal AsyncClientStreamingCall(IClientStreamWriter<TRequest> requestStream, Task<TResponse> responseAsync, IClientCallState state)
    {
        RequestStream = requestStream;
        ResponseAsync = responseAsync;
        _state = state;
    }

    /// <summary>The request stream; call <see cref="IClientStreamWriter{T}.CompleteAsync"/> when done writing.</summary>
    public IClientStreamWriter<TRequest> RequestStream { get; }

    /// <summary>The response; faults with <see cref="RpcException"/> when the call ends with a non-OK status.</summary>
    public Task<TResponse> ResponseAsync { get; }

    /// <summary>The response headers (custom metadata).</summary>
    public Task<Metadata> ResponseHeadersAsync => _state.ResponseHeadersAsync;

    /// <summary>Awaits <see cref="ResponseAsync"/>.</summary>
    public TaskAwaiter<TResponse> GetAwaiter() => ResponseAsync.GetAwaiter();

    /// <summary>The final status; only once the call has ended.</summary>
    public Status GetStatus() => _state.GetStatus();

    /// <summary>The trailers; only once the call has ended.</summary>
    public Metadata GetTrailers() => _state.GetTrailers();

    /// <summary>Aborts the call if it is still running and frees its resources.</summary>
    public void Dispose() => _state.Dispose();
}
