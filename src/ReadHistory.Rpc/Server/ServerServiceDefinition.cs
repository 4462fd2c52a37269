using Google.Protobuf;

namespace ReadHistory.Rpc.Server;

/// <summary>
/// A service ready to be mapped: its full name and the handler of each method. Built with
/// <c>ServerServiceDefinition.CreateBuilder("pkg.Service").AddUnaryMethod(method, handler)...Build()</c>
/// and mapped with <see cref="GrpcEndpointRouteBuilderExtensions.MapGrpcService"/>.
/// </summary>
public sealed class ServerServiceDefinition
{
    private ServerServiceDefinition(string serviceName, IReadOnlyList<ServerMethodDefinition> methods)
    {
        ServiceName = serviceName;
        Methods = methods;
    }

    /// <summary>The full service name, e.g. <c>readhistory.v1.ReadHistory</c>.</summary>
    public string ServiceName { get; }

    /// <summary>The methods, in the order they were added.</summary>
    internal IReadOnlyList<ServerMethodDefinition> Methods { get; }

    /// <summary>Starts a definition for the service with this full name.</summary>
    public static Builder CreateBuilder(string serviceName)
    {
        ArgumentException.ThrowIfNullOrEmpty(serviceName);
        return new Builder(serviceName);
    }

    /// <summary>Collects the methods of one service.</summary>
    public sealed class Builder
    {
        private readonly string _serviceName;
        private readonly List<ServerMethodDefinition> _methods = [];

        internal Builder(string serviceName)
        {
            _serviceName = serviceName;
        }

        /// <summary>Adds a unary method.</summary>
        public Builder AddUnaryMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse> handler)
            where TRequest : class, IMessage<TRequest>
            where TResponse : class, IMessage<TResponse>
        {
            Check(method, MethodType.Unary, handler);
            _methods.Add(new ServerMethodDefinition(method, settings => new UnaryServerCallHandler<TRequest, TResponse>(method, handler, settings)));
            return this;
        }

        /// <summary>Adds a client-streaming method.</summary>
        public Builder AddClientStreamingMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse> handler)
            where TRequest : class, IMessage<TRequest>
            where TResponse : class, IMessage<TResponse>
        {
            Check(method, MethodType.ClientStreaming, handler);
            _methods.Add(new ServerMethodDefinition(method, settings => new ClientStreamingServerCallHandler<TRequest, TResponse>(method, handler, settings)));
            return this;
        }

        /// <summary>Adds a server-streaming method.</summary>
        public Builder AddServerStreamingMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse> handler)
            where TRequest : class, IMessage<TRequest>
            where TResponse : class, IMessage<TResponse>
        {
            Check(method, MethodType.ServerStreaming, handler);
            _methods.Add(new ServerMethodDefinition(method, settings => new ServerStreamingServerCallHandler<TRequest, TResponse>(method, handler, settings)));
            return this;
        }

        /// <summary>The finished definition.</summary>
        public ServerServiceDefinition Build() => new(_serviceName, _methods.ToArray());

        private void Check(IMethod method, MethodType expected, Delegate handler)
        {
            ArgumentNullException.ThrowIfNull(method);
            ArgumentNullException.ThrowIfNull(handler);
            if (method.Type != expected)
            {
                throw new ArgumentException($"{method.FullName} is {method.Type}, not {expected}", nameof(method));
            }

            if (!string.Equals(method.ServiceName, _serviceName, StringComparison.Ordinal))
            {
                throw new ArgumentException($"{method.FullName} belongs to {method.ServiceName}, not to {_serviceName}", nameof(method));
            }

            if (_methods.Exists(m => string.Equals(m.Method.Name, method.Name, StringComparison.Ordinal)))
            {
                throw new ArgumentException($"{method.FullName} was added twice", nameof(method));
            }
        }
    }
}
