using Grpc.AspNetCore.Server.Model;
using ReadHistory.Server.Cache;

namespace ReadHistory.Server.Api.Internal;

/// <summary>
/// Adds CacheNode.Snapshot to <see cref="CacheNodeService"/> with <see cref="SnapshotMethods.Encoded"/>'s marshaller,
/// which writes the sender's pre-encoded chunks into the response as they are (the generated marshaller would need a
/// SnapshotChunk object and a serializer pass per chunk: the warm-start rate was measured with neither).
/// </summary>
internal sealed class SnapshotMethodProvider : IServiceMethodProvider<CacheNodeService>
{
    private static readonly HttpMethodMetadata Post = new(["POST"], acceptCorsPreflight: true);

    /// <inheritdoc />
    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<CacheNodeService> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.AddServerStreamingMethod(
            SnapshotMethods.Encoded,
            [Post],
            static (service, request, stream, callContext) => service.SnapshotAsync(request, stream, callContext));
    }
}
