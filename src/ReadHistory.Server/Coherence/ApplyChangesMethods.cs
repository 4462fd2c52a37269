using System.Buffers;
using Google.Protobuf;
using Grpc.Core;
using ReadHistory.Api.Internal.V1;

namespace ReadHistory.Server.Coherence;

/// <summary>
/// The sending end of CacheNode.ApplyChanges with a request marshaller of its own, on the generated method's route: a
/// peer sender writes its pre-encoded batch straight into the transport's buffer (no ApplyChangesRequest, UserChanges
/// or RepeatedField per write). The receiver binds the generated method; the bytes are the same message.
/// </summary>
internal static class ApplyChangesMethods
{
    /// <summary>The method's name in the CacheNode service.</summary>
    public const string Name = "ApplyChanges";

    /// <summary>The sender's method: requests go out as encoded, responses are parsed as usual.</summary>
    public static readonly Method<EncodedChanges, ApplyChangesResponse> Encoded = new(
        MethodType.Unary,
        CacheNode.Descriptor.FullName,
        Name,
        Marshallers.Create(
            static (request, context) =>
            {
                var bytes = request.Bytes.Span;
                context.SetPayloadLength(bytes.Length);
                context.GetBufferWriter().Write(bytes);
                context.Complete();
            },
            static EncodedChanges (_) => throw new NotSupportedException("the sender's ApplyChanges method only writes requests")),
        Marshallers.Create(
            static (ApplyChangesResponse response, SerializationContext context) =>
            {
                context.SetPayloadLength(response.CalculateSize());
                response.WriteTo(context.GetBufferWriter());
                context.Complete();
            },
            static (DeserializationContext context) => ApplyChangesResponse.Parser.ParseFrom(context.PayloadAsReadOnlySequence())));
}
