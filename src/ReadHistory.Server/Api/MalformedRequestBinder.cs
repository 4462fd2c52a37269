using Google.Protobuf;
using Grpc.Core;

namespace ReadHistory.Server.Api;

/// <summary>
/// Passes a service's methods on to Grpc.AspNetCore's binder with a request marshaller that reports a request whose
/// protobuf does not parse as INTERNAL "failed to deserialize the request: …", the gRPC convention (grpc-go and
/// grpc-java answer the same; so did this service before Grpc.AspNetCore).
/// </summary>
/// <remarks>
/// Grpc.AspNetCore runs the request deserializer before any interceptor or handler and treats anything it throws but
/// an <see cref="RpcException"/> as a handler failure: UNKNOWN "Exception was thrown by handler." and an Error log
/// entry with a stack trace for each bad request (a fuzzer's 31,099 of them). An RpcException is sent with its own
/// status and logged by Grpc.AspNetCore at Information ("Error reading message", "Error status code … raised"), which
/// appsettings.json's "Grpc": "Warning" keeps out of the log.
/// </remarks>
internal sealed class MalformedRequestBinder(ServiceBinderBase inner) : ServiceBinderBase
{
    /// <summary>
    /// The same method with a request deserializer that turns a parse failure into INTERNAL. The successful path is
    /// the method's own deserializer, unchanged (the generated one parses <c>PayloadAsReadOnlySequence</c>).
    /// </summary>
    public static Method<TRequest, TResponse> Guard<TRequest, TResponse>(Method<TRequest, TResponse> method)
        where TRequest : class
        where TResponse : class
    {
        ArgumentNullException.ThrowIfNull(method);
        var marshaller = method.RequestMarshaller;
        var deserialize = marshaller.ContextualDeserializer;
        var guarded = Marshallers.Create(marshaller.ContextualSerializer, context =>
        {
            try
            {
                return deserialize(context);
            }
            catch (InvalidProtocolBufferException e)
            {
                throw new RpcException(new Status(StatusCode.Internal, "failed to deserialize the request: " + e.Message, e));
            }
            catch (Exception e) when (e is not RpcException and not OperationCanceledException)
            {
                // A custom deserializer's own parse failure; its message may name our types, so it stays in the server.
                throw new RpcException(new Status(StatusCode.Internal, "failed to deserialize the request", e));
            }
        });
        return new Method<TRequest, TResponse>(method.Type, method.ServiceName, method.Name, guarded, method.ResponseMarshaller);
    }

    /// <inheritdoc />
    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler) =>
        inner.AddMethod(Guard(method), handler);

    /// <inheritdoc />
    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler) =>
        inner.AddMethod(Guard(method), handler);

    /// <inheritdoc />
    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler) =>
        inner.AddMethod(Guard(method), handler);

    /// <inheritdoc />
    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler) =>
        inner.AddMethod(Guard(method), handler);
}
