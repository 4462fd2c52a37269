namespace ReadHistory.Rpc;

/// <summary>The untyped part of a <see cref="Method{TRequest, TResponse}"/>.</summary>
public interface IMethod
{
    /// <summary>Unary or streaming.</summary>
    MethodType Type { get; }

    /// <summary>The full service name, e.g. <c>grpc.health.v1.Health</c>.</summary>
    string ServiceName { get; }

    /// <summary>The method name, e.g. <c>Check</c>.</summary>
    string Name { get; }

    /// <summary>The HTTP/2 path: <c>/{ServiceName}/{Name}</c>.</summary>
    string FullName { get; }
}
