using System.Buffers;
using System.Text;
using Google.Protobuf;
using Grpc.Core;

namespace ReadHistory.Server.Proxy;

/// <summary>
/// One slot's share of a <see cref="ForwardedBatch"/> as the internal request, written from the client's bytes when it
/// is serialized: each member entry's CheckRequest copied as it came, the request's tenant, and passthrough.
/// <code>
///   CacheBatchCheckRequest: [ 0x0A len BatchCheckRequest ][ 0x10 0x01 (passthrough) ]
///   BatchCheckRequest:      [ 0x0A len entry ]* [ 0x12 len tenant ]
/// </code>
/// An entry keeps its own (possibly empty) tenant: the node gives an empty one the request's, as the proxy does.
/// </summary>
internal sealed class BatchSlotRequest
{
    /// <summary>The walk's passthrough setter (static: no closure per call).</summary>
    public static readonly Action<BatchSlotRequest, bool> SetPassthrough = static (r, p) => r.Passthrough = p;

    private const byte EntryTag = (1 << 3) | 2;
    private const byte TenantTag = (2 << 3) | 2;
    private const byte PassthroughTag = 2 << 3;

    private readonly ForwardedBatch _batch;
    private readonly List<int> _members;
    private readonly int _tenantBytes;
    private readonly int _innerLength;

    /// <summary>The share of <paramref name="batch"/> made of its entries <paramref name="members"/>, in that order.</summary>
    public BatchSlotRequest(ForwardedBatch batch, List<int> members)
    {
        _batch = batch;
        _members = members;
        _tenantBytes = Encoding.UTF8.GetByteCount(batch.Tenant);
        foreach (var i in members)
        {
            var length = batch.EntryBytes(i).Length;
            _innerLength += 1 + CodedOutputStream.ComputeLengthSize(length) + length;
        }

        if (_tenantBytes > 0)
        {
            _innerLength += 1 + CodedOutputStream.ComputeLengthSize(_tenantBytes) + _tenantBytes;
        }
    }

    /// <summary>Whether the share goes to a node of another slot (field 2 of the envelope).</summary>
    public bool Passthrough { get; set; }

    /// <summary>Writes the internal request into a serialization context.</summary>
    public void WriteTo(SerializationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var passthrough = Passthrough;
        context.SetPayloadLength(1 + CodedOutputStream.ComputeLengthSize(_innerLength) + _innerLength + (passthrough ? 2 : 0));
        Write(context.GetBufferWriter(), passthrough);
        context.Complete();
    }

    /// <summary>Writes the internal request (with passthrough as given) into <paramref name="writer"/>.</summary>
    public void Write(IBufferWriter<byte> writer, bool passthrough)
    {
        ArgumentNullException.ThrowIfNull(writer);
        WriteHeader(writer, EntryTag, _innerLength);
        foreach (var i in _members)
        {
            var entry = _batch.EntryBytes(i);
            WriteHeader(writer, EntryTag, entry.Length);
            writer.Write(entry);
        }

        if (_tenantBytes > 0)
        {
            WriteHeader(writer, TenantTag, _tenantBytes);
            var span = writer.GetSpan(_tenantBytes);
            Encoding.UTF8.GetBytes(_batch.Tenant, span);
            writer.Advance(_tenantBytes);
        }

        if (passthrough)
        {
            var span = writer.GetSpan(2);
            span[0] = PassthroughTag;
            span[1] = 1;
            writer.Advance(2);
        }
    }

    // A length-delimited field's tag and length.
    private static void WriteHeader(IBufferWriter<byte> writer, byte tag, int length)
    {
        var span = writer.GetSpan(6);
        span[0] = tag;
        writer.Advance(1 + ProtoWireWriter.WriteVarint(span[1..], (uint)length));
    }
}
