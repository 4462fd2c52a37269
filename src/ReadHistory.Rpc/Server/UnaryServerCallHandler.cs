using Google.Protobuf;
using ReadHistory.Rpc.Internal;

namespace ReadHistory.Rpc.Server;

/// <summary>Runs a unary method: exactly one request message, one response message.</summary>
internal sealed class UnaryServerCallHandler<TRequest, TResponse> : ServerCallHandler
    where TRequest : class, IMessage<TRequest>
    where TResponse : class, IMessage<TResponse>
{
    private readonly Method<TRequest, TResponse> _method;
    private readonly UnaryServerMethod<TRequest, TResponse> _handler;

    public UnaryServerCallHandler(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse> handler, GrpcServerSettings settings)
        : base(method, settings)
    {
        _method = method;
        _handler = handler;
    }

    protected override async Task HandleCallCoreAsync(HttpServerCallContext call)
    {
        var request = await ReadSingleRequestAsync(call, _method.RequestParser).ConfigureAwait(false);
        var response = await _handler(request, call).ConfigureAwait(false);
        WriteSingleResponse(call, response);
    }

    /// <summary>Reads the one request message of a unary or server-streaming call, up to the end of the request stream.</summary>
    internal static async Task<T> ReadSingleRequestAsync<T>(HttpServerCallContext call, MessageParser<T> parser)
        where T : class, IMessage<T>
    {
        var token = call.CancellationToken;
        var request = await call.ReadMessageAsync(parser, token).ConfigureAwait(false)
            ?? throw new RpcException(GrpcStatuses.MissingRequestMessage);
        if (await call.ReadMessageAsync(parser, token).ConfigureAwait(false) is not null)
        {
            throw new RpcException(GrpcStatuses.AdditionalRequestMessage);
        }

        return request;
    }
}
