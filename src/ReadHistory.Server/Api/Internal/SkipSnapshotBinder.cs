using Grpc.Core;
using ReadHistory.Server.Cache;

namespace ReadHistory.Server.Api.Internal;

/// <summary>
/// Passes the generated CacheNode binding on to Grpc.AspNetCore's binder but for Snapshot, which
/// <see cref="SnapshotMethodProvider"/> binds with the pre-encoded marshaller instead.
/// </summary>
internal sealed class SkipSnapshotBinder(ServiceBinderBase inner) : ServiceBinderBase
{
    /// <inheritdoc />
    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler) =>
        inner.AddMethod(method, handler);

    /// <inheritdoc />
    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler) =>
        inner.AddMethod(method, handler);

    /// <inheritdoc />
    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler)
    {
        ArgumentNullException.ThrowIfNull(method);
        if (method.Name != SnapshotMethods.Name)
        {
            inner.AddMethod(method, handler);
        }
    }

    /// <inheritdoc />
    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler) =>
        inner.AddMethod(method, handler);
}
