using System.Buffers;
using Google.Protobuf;
using Grpc.Core;
using ReadHistory.Api.Internal.V1;

namespace ReadHistory.Server.Cache;

/// <summary>
/// The two ends of CacheNode.Snapshot (warm start) with marshallers of their own, on the generated method's route: the
/// sender writes pre-encoded chunks straight into the transport's buffer, the receiver decodes each payload into a
/// pooled buffer with <see cref="SnapshotChunkDecoder"/>. No SnapshotChunk object or ByteString per filter on either
/// side; the bytes on the wire are the same SnapshotChunk messages any gRPC client of the proto reads.
/// </summary>
internal static class SnapshotMethods
{
    /// <summary>The method's name in the CacheNode service.</summary>
    public const string Name = "Snapshot";

    private static readonly Marshaller<SnapshotRequest> Request = Marshallers.Create(
        static (request, context) =>
        {
            context.SetPayloadLength(request.CalculateSize());
            request.WriteTo(context.GetBufferWriter());
            context.Complete();
        },
        static context => SnapshotRequest.Parser.ParseFrom(context.PayloadAsReadOnlySequence()));

    /// <summary>The sending side (the server): chunks go out as the encoder made them.</summary>
    public static readonly Method<SnapshotRequest, EncodedSnapshotChunk> Encoded = new(
        MethodType.ServerStreaming,
        CacheNode.Descriptor.FullName,
        Name,
        Request,
        Marshallers.Create(
            static (chunk, context) =>
            {
                var bytes = chunk.Bytes.Span;
                context.SetPayloadLength(bytes.Length);
                context.GetBufferWriter().Write(bytes);
                context.Complete();
            },
            static EncodedSnapshotChunk (_) => throw new NotSupportedException("the sender's Snapshot method only writes chunks")));

    /// <summary>
    /// The receiving side (a starting replica) for one call: each payload goes through <paramref name="decoder"/>, whose
    /// message carries every field but the filters (those wait in <see cref="SnapshotChunkDecoder.TakeDecoded"/>).
    /// </summary>
    public static Method<SnapshotRequest, SnapshotChunk> Decoding(SnapshotChunkDecoder decoder)
    {
        ArgumentNullException.ThrowIfNull(decoder);
        return new Method<SnapshotRequest, SnapshotChunk>(
            MethodType.ServerStreaming,
            CacheNode.Descriptor.FullName,
            Name,
            Request,
            Marshallers.Create(
                static (chunk, context) =>
                {
                    context.SetPayloadLength(chunk.CalculateSize());
                    chunk.WriteTo(context.GetBufferWriter());
                    context.Complete();
                },
                context => decoder.Decode(context.PayloadAsReadOnlySequence())));
    }
}
