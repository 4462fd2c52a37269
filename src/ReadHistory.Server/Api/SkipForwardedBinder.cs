using Grpc.Core;

namespace ReadHistory.Server.Api;

/// <summary>
/// Passes the generated ReadHistory binding on but for Check, Filter, MarkRead and BatchCheck, which
/// <see cref="ForwardingMethodProvider"/> binds on bytes instead (a route bound twice would be ambiguous).
/// </summary>
internal sealed class SkipForwardedBinder(ServiceBinderBase inner) : ServiceBinderBase
{
    /// <summary>Whether <paramref name="name"/> is a method the forwarding proxy serves on bytes.</summary>
    public static bool IsForwarded(string name) => name is "Check" or "Filter" or "MarkRead" or "BatchCheck";

    /// <inheritdoc />
    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler)
    {
        ArgumentNullException.ThrowIfNull(method);
        if (!IsForwarded(method.Name))
        {
            inner.AddMethod(method, handler);
        }
    }

    /// <inheritdoc />
    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler) =>
        inner.AddMethod(method, handler);

    /// <inheritdoc />
    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler) =>
        inner.AddMethod(method, handler);

    /// <inheritdoc />
    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler) =>
        inner.AddMethod(method, handler);
}
