using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using ReadHistory.Api.Internal.V1;
using ReadHistory.Server.Cache;

namespace ReadHistory.Server.Api.Internal;

/// <summary>
/// Adds CacheNode.Snapshot to <see cref="CacheNodeService"/> with <see cref="SnapshotMethods.Encoded"/>'s marshaller,
/// which writes the sender's pre-encoded chunks into the response as they are (the generated marshaller would need a
/// SnapshotChunk object and a serializer pass per chunk: the warm-start rate was measured with neither). A request that
/// does not parse gets INTERNAL, as on every other method (<see cref="MalformedRequestBinder"/>).
/// </summary>
internal sealed class SnapshotMethodProvider : IServiceMethodProvider<CacheNodeService>
{
    private static readonly HttpMethodMetadata Post = new(["POST"], acceptCorsPreflight: true);
    private static readonly Method<SnapshotRequest, EncodedSnapshotChunk> Snapshot = MalformedRequestBinder.Guard(SnapshotMethods.Encoded);

    /// <inheritdoc />
    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<CacheNodeService> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.AddServerStreamingMethod(
            Snapshot,
            [Post],
            static (service, request, stream, callContext) => service.SnapshotAsync(request, stream, callContext));
    }
}
