using Google.Protobuf;

namespace ReadHistory.Rpc.Client;

/// <summary>The call invoker of a <see cref="GrpcChannel"/>.</summary>
internal sealed class HttpClientCallInvoker : CallInvoker
{
    private readonly GrpcChannel _channel;

    public HttpClientCallInvoker(GrpcChannel channel)
    {
        _channel = channel;
    }

    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var call = new GrpcCall<TRequest, TResponse>(_channel, method, options);
        return new AsyncUnaryCall<TResponse>(call.StartUnary(request), call);
    }

    public override AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options)
    {
        var call = new GrpcCall<TRequest, TResponse>(_channel, method, options);
        var response = call.StartClientStreaming(out var writer);
        return new AsyncClientStreamingCall<TRequest, TResponse>(writer, response, call);
    }

    public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var call = new GrpcCall<TRequest, TResponse>(_channel, method, options);
        return new AsyncServerStreamingCall<TResponse>(call.StartServerStreaming(request), call);
    }
}
