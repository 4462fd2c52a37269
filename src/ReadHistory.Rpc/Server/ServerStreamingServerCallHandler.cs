using Google.Protobuf;

namespace ReadHistory.Rpc.Server;

/// <summary>Runs a server-streaming method: one request message, any number of response messages.</summary>
internal sealed class ServerStreamingServerCallHandler<TRequest, TResponse> : ServerCallHandler
    where TRequest : class, IMessage<TRequest>
    where TResponse : class, IMessage<TResponse>
{
    private readonly Method<TRequest, TResponse> _method;
    private readonly ServerStreamingServerMethod<TRequest, TResponse> _handler;

    public ServerStreamingServerCallHandler(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse> handler, GrpcServerSettings settings)
        : base(method, settings)
    {
        _method = method;
        _handler = handler;
    }

    protected override async Task HandleCallCoreAsync(HttpServerCallContext call)
    {
        var request = await UnaryServerCallHandler<TRequest, TResponse>.ReadSingleRequestAsync(call, _method.RequestParser).ConfigureAwait(false);
        var writer = new HttpContextStreamWriter<TResponse>(call);
        try
        {
            await _handler(request, writer, call).ConfigureAwait(false);
        }
        finally
        {
            writer.Complete();
        }
    }
}
