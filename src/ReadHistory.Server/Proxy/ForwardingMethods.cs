using Grpc.Core;
using ReadHistory.Api.Internal.V1;

namespace ReadHistory.Server.Proxy;

/// <summary>
/// The methods of the forwarding proxy, both ends with marshallers of their own: the public ReadHistory Check / Filter /
/// MarkRead / BatchCheck keep the client's request as bytes (<see cref="ForwardedRequestReader"/> reads the routing fields) and
/// write the node's answer as it came; the same CacheNode methods send the request inside the internal envelope and
/// keep the answer as bytes. Nothing decodes the ids or re-encodes an answer on the proxy; the bytes on both wires are
/// the messages of the protos, so clients and nodes see no difference.
/// </summary>
internal static class ForwardingMethods
{
    private const string PublicService = "readhistory.v1.ReadHistory";

    private static readonly Marshaller<ForwardedRequest> CheckRequest = Marshallers.Create(
        static (request, context) => request.WriteTo(context),
        static context => ForwardedRequestReader.ReadCheck(context.PayloadAsReadOnlySequence()));

    private static readonly Marshaller<ForwardedRequest> MarkReadRequest = Marshallers.Create(
        static (request, context) => request.WriteTo(context),
        static context => ForwardedRequestReader.ReadMarkRead(context.PayloadAsReadOnlySequence()));

    // One per answer type: where its AnswerSource lives (CheckResponse.source = 3, FilterResponse.source = 2, none).
    private static readonly Marshaller<RelayedAnswer> CheckAnswer = Marshallers.Create(
        static (answer, context) => answer.WriteTo(context),
        static context => RelayedAnswer.Copy(context.PayloadAsReadOnlySequence(), sourceField: 3));

    private static readonly Marshaller<RelayedAnswer> FilterAnswer = Marshallers.Create(
        static (answer, context) => answer.WriteTo(context),
        static context => RelayedAnswer.Copy(context.PayloadAsReadOnlySequence(), sourceField: 2));

    private static readonly Marshaller<RelayedAnswer> MarkReadAnswer = Marshallers.Create(
        static (answer, context) => answer.WriteTo(context),
        static context => RelayedAnswer.Copy(context.PayloadAsReadOnlySequence(), sourceField: 0));

    // A public BatchCheck and its answer are one object (the request carries its entries' outcomes); each side of these
    // marshallers is used in one direction only, the other throws.
    private static readonly Marshaller<ForwardedBatch> BatchRequest = Marshallers.Create<ForwardedBatch>(
        static (_, _) => throw new NotSupportedException("the proxy never sends a public BatchCheck"),
        static context => ForwardedRequestReader.ReadBatch(context.PayloadAsReadOnlySequence()));

    private static readonly Marshaller<ForwardedBatch> BatchAnswer = Marshallers.Create<ForwardedBatch>(
        static (batch, context) => batch.WriteAnswerTo(context),
        static _ => throw new NotSupportedException("the proxy never receives a public BatchCheck answer"));

    private static readonly Marshaller<BatchSlotRequest> SlotRequest = Marshallers.Create<BatchSlotRequest>(
        static (request, context) => request.WriteTo(context),
        static _ => throw new NotSupportedException("the proxy never receives an internal BatchCheck"));

    private static readonly Marshaller<RelayedBatch> SlotAnswer = Marshallers.Create<RelayedBatch>(
        static (_, _) => throw new NotSupportedException("the proxy never sends an internal BatchCheck answer"),
        static context => RelayedBatch.Copy(context.PayloadAsReadOnlySequence()));

    /// <summary>readhistory.v1.ReadHistory/Check as the proxy serves it.</summary>
    public static readonly Method<ForwardedRequest, RelayedAnswer> PublicCheck = new(MethodType.Unary, PublicService, "Check", CheckRequest, CheckAnswer);

    /// <summary>readhistory.v1.ReadHistory/Filter as the proxy serves it.</summary>
    public static readonly Method<ForwardedRequest, RelayedAnswer> PublicFilter = new(MethodType.Unary, PublicService, "Filter", CheckRequest, FilterAnswer);

    /// <summary>readhistory.v1.ReadHistory/MarkRead as the proxy serves it.</summary>
    public static readonly Method<ForwardedRequest, RelayedAnswer> PublicMarkRead = new(MethodType.Unary, PublicService, "MarkRead", MarkReadRequest, MarkReadAnswer);

    /// <summary>readhistory.v1.ReadHistory/BatchCheck as the proxy serves it: the request kept as bytes, the answer written from its entries' outcomes.</summary>
    public static readonly Method<ForwardedBatch, ForwardedBatch> PublicBatchCheck = new(MethodType.Unary, PublicService, "BatchCheck", BatchRequest, BatchAnswer);

    /// <summary>CacheNode/BatchCheck, one slot's entries written from the client's bytes, the answer kept as bytes.</summary>
    public static readonly Method<BatchSlotRequest, RelayedBatch> NodeBatchCheck = new(MethodType.Unary, CacheNode.Descriptor.FullName, "BatchCheck", SlotRequest, SlotAnswer);

    /// <summary>CacheNode/Check, the request in a CacheCheckRequest envelope.</summary>
    public static readonly Method<ForwardedRequest, RelayedAnswer> NodeCheck = new(MethodType.Unary, CacheNode.Descriptor.FullName, "Check", CheckRequest, CheckAnswer);

    /// <summary>CacheNode/Filter, the request in a CacheCheckRequest envelope.</summary>
    public static readonly Method<ForwardedRequest, RelayedAnswer> NodeFilter = new(MethodType.Unary, CacheNode.Descriptor.FullName, "Filter", CheckRequest, FilterAnswer);

    /// <summary>CacheNode/MarkRead, the request in a CacheMarkReadRequest envelope.</summary>
    public static readonly Method<ForwardedRequest, RelayedAnswer> NodeMarkRead = new(MethodType.Unary, CacheNode.Descriptor.FullName, "MarkRead", MarkReadRequest, MarkReadAnswer);

    /// <summary>The Exchange stream's name of a forwarded CacheNode method (<see cref="NodeCheck"/>, <see cref="NodeFilter"/> or <see cref="NodeMarkRead"/>).</summary>
    public static ExchangeCall ExchangeCallOf(Method<ForwardedRequest, RelayedAnswer> method) =>
        method == NodeCheck ? ExchangeCall.Check : method == NodeFilter ? ExchangeCall.Filter : ExchangeCall.MarkRead;

    /// <summary>Whether the proxy's public methods forward bytes (ReadHistory:Proxy:ForwardBytes, default in appsettings.json; read while services are wired, before options are bound).</summary>
    public static bool Enabled(IConfiguration configuration) =>
        configuration.GetValue<bool>(ProxyOptions.Section + ":ForwardBytes");
}
