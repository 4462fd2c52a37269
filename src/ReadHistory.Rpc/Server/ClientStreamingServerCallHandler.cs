using Google.Protobuf;

namespace ReadHistory.Rpc.Server;

/// <summary>Runs a client-streaming method: any number of request messages, one response message.</summary>
internal sealed class ClientStreamingServerCallHandler<TRequest, TResponse> : ServerCallHandler
    where TRequest : class, IMessage<TRequest>
    where TResponse : class, IMessage<TResponse>
{
    private readonly Method<TRequest, TResponse> _method;
    private readonly ClientStreamingServerMethod<TRequest, TResponse> _handler;

    public ClientStreamingServerCallHandler(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse> handler, GrpcServerSettings settings)
        : base(method, settings)
    {
        _method = method;
        _handler = handler;
    }

    protected override async Task HandleCallCoreAsync(HttpServerCallContext call)
    {
        var reader = new HttpContextStreamReader<TRequest>(call, _method.RequestParser);
        var response = await _handler(reader, call).ConfigureAwait(false);
        WriteSingleResponse(call, response);
    }
}
