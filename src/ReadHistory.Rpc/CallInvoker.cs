using Google.Protobuf;

namespace ReadHistory.Rpc;

/// <summary>Starts client calls (shaped like Grpc.Core's CallInvoker, so tests can fake it and the package can replace it).</summary>
public abstract class CallInvoker
{
    /// <summary>Starts a unary call.</summary>
    public abstract AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse>;

    /// <summary>Starts a client-streaming call: write requests to <c>RequestStream</c>, complete it, await the response.</summary>
    public abstract AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse>;

    /// <summary>Starts a server-streaming call: read responses from <c>ResponseStream</c>.</summary>
    public abstract AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse>;
}
