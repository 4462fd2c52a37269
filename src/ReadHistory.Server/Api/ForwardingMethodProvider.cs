using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using ReadHistory.Server.Proxy;

namespace ReadHistory.Server.Api;

/// <summary>
/// Adds Check, Filter, MarkRead and BatchCheck to <see cref="ForwardingReadHistoryService"/> with <see cref="ForwardingMethods"/>'
/// byte marshallers. Interceptors (call metrics) apply as to any method of the service; a request that does not parse
/// gets INTERNAL with the generated parser's message (<see cref="MalformedRequestBinder"/>).
/// </summary>
internal sealed class ForwardingMethodProvider : IServiceMethodProvider<ForwardingReadHistoryService>
{
    private static readonly HttpMethodMetadata Post = new(["POST"], acceptCorsPreflight: true);
    private static readonly Method<ForwardedRequest, RelayedAnswer> Check = MalformedRequestBinder.Guard(ForwardingMethods.PublicCheck);
    private static readonly Method<ForwardedRequest, RelayedAnswer> Filter = MalformedRequestBinder.Guard(ForwardingMethods.PublicFilter);
    private static readonly Method<ForwardedRequest, RelayedAnswer> MarkRead = MalformedRequestBinder.Guard(ForwardingMethods.PublicMarkRead);
    private static readonly Method<ForwardedBatch, ForwardedBatch> BatchCheck = MalformedRequestBinder.Guard(ForwardingMethods.PublicBatchCheck);

    /// <inheritdoc />
    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<ForwardingReadHistoryService> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.AddUnaryMethod(Check, [Post], static (service, request, callContext) => service.CheckAsync(ForwardingMethods.NodeCheck, request, callContext));
        context.AddUnaryMethod(Filter, [Post], static (service, request, callContext) => service.CheckAsync(ForwardingMethods.NodeFilter, request, callContext));
        context.AddUnaryMethod(MarkRead, [Post], static (service, request, callContext) => service.MarkReadAsync(request, callContext));
        context.AddUnaryMethod(BatchCheck, [Post], static (service, request, callContext) => service.BatchCheckAsync(request, callContext));
    }
}
