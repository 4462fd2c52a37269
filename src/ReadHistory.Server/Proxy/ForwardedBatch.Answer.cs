using System.Buffers;
using System.Text;
using Google.Protobuf;
using Grpc.Core;

namespace ReadHistory.Server.Proxy;

/// <summary>
/// The client's BatchCheckResponse, written from the entries' outcomes in request order: a node's result as its bytes
/// came, or a failure encoded as the decoding path's <c>UserCheckResult{status_code, status_message}</c>.
/// <code>
///   BatchCheckResponse: [ 0x0A len UserCheckResult ]*      UserCheckResult (failed): [ 0x08 code ][ 0x12 len message ]
/// </code>
/// </summary>
internal sealed partial class ForwardedBatch
{
    private const byte ResultTag = (1 << 3) | 2;
    private const byte CodeTag = 1 << 3;
    private const byte MessageTag = (2 << 3) | 2;

    /// <summary>Writes the answer into the client's response, then returns the nodes' answers and the request to the pool.</summary>
    public void WriteAnswerTo(SerializationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (DecodedAnswer is { } decoded)
        {
            var bytes = decoded.ToByteArray();
            context.SetPayloadLength(bytes.Length);
            context.GetBufferWriter().Write(bytes);
            context.Complete();
            return;
        }

        var total = 0;
        for (var i = 0; i < Count; i++)
        {
            var length = ResultLength(i);
            total += 1 + CodedOutputStream.ComputeLengthSize(length) + length;
        }

        context.SetPayloadLength(total);
        var writer = context.GetBufferWriter();
        for (var i = 0; i < Count; i++)
        {
            WriteResult(writer, i);
        }

        context.Complete();
        for (var i = 0; i < Count; i++)
        {
            _entries[i].Answer?.Release();
        }

        Release();
    }

    /// <summary>The encoded answer (tests compare it with the decoding path's); the buffers stay with this request.</summary>
    internal byte[] AnswerBytes()
    {
        var writer = new ArrayBufferWriter<byte>();
        for (var i = 0; i < Count; i++)
        {
            WriteResult(writer, i);
        }

        return writer.WrittenSpan.ToArray();
    }

    // The length of entry i's UserCheckResult.
    private int ResultLength(int i)
    {
        ref readonly var entry = ref _entries[i];
        if (!entry.Answered)
        {
            throw new InvalidOperationException($"requests[{i}] was left unanswered");
        }

        if (entry.Answer is { } answer)
        {
            return answer.Result(entry.Result).Length;
        }

        var length = entry.Code == 0 ? 0 : 1 + CodedOutputStream.ComputeInt32Size(entry.Code);
        if (entry.Message is { Length: > 0 } message)
        {
            var bytes = Encoding.UTF8.GetByteCount(message);
            length += 1 + CodedOutputStream.ComputeLengthSize(bytes) + bytes;
        }

        return length;
    }

    private void WriteResult(IBufferWriter<byte> writer, int i)
    {
        var length = ResultLength(i);
        var size = 1 + CodedOutputStream.ComputeLengthSize(length) + length;
        var span = writer.GetSpan(size);
        span[0] = ResultTag;
        var at = 1 + ProtoWireWriter.WriteVarint(span[1..], (uint)length);
        ref readonly var entry = ref _entries[i];
        if (entry.Answer is { } answer)
        {
            answer.Result(entry.Result).CopyTo(span[at..]);
        }
        else
        {
            if (entry.Code != 0)
            {
                span[at++] = CodeTag;
                // int32: a negative value is sign-extended to ten bytes, as protobuf writes it.
                at += ProtoWireWriter.WriteVarint(span[at..], (ulong)(long)entry.Code);
            }

            if (entry.Message is { Length: > 0 } message)
            {
                span[at++] = MessageTag;
                at += ProtoWireWriter.WriteVarint(span[at..], (uint)Encoding.UTF8.GetByteCount(message));
                Encoding.UTF8.GetBytes(message, span[at..]);
            }
        }

        writer.Advance(size);
    }
}
