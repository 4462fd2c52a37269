using Google.Protobuf;
using Grpc.Core;

namespace ReadHistory.Server.Proxy;

/// <summary>
/// The requests an Exchange stream's writer sends in one ExchangeRequests message, written straight from the clients'
/// buffers: each request is the internal request's bytes inside an ExchangeRequest, with its id and the time its
/// caller still waits. Reused by the one writer of a stream (cleared after each write).
/// <code>
///   ExchangeRequests:  ( 0x0A len ExchangeRequest )*
///   ExchangeRequest:   0x08 id  0x10 timeout_micros  (0x1A | 0x22 | 0x2A) len internal-request      (a call)
///                      0x08 id  0x30 0x01                                                            (a cancel)
/// </code>
/// </summary>
internal sealed class ExchangeBatch
{
    private const byte RequestsTag = (1 << 3) | 2;
    private const byte IdTag = 1 << 3;
    private const byte TimeoutTag = 2 << 3;
    private const byte CancelTag = 6 << 3;

    /// <summary>The requests and cancel notices to send, in order.</summary>
    public List<PendingExchange> Items { get; } = [];

    /// <summary>The time the timeouts are measured from (set by the writer before it adds the first item).</summary>
    public DateTime Now { get; set; }

    /// <summary>The bytes <see cref="WriteTo"/> writes for the items added so far (for the writer's size bound).</summary>
    public int Bytes { get; private set; }

    /// <summary>Adds an item, its timeout measured from <see cref="Now"/>.</summary>
    public void Add(PendingExchange item)
    {
        ArgumentNullException.ThrowIfNull(item);
        var inner = InnerSize(item, TimeoutMicros(item, Now));
        Items.Add(item);
        Bytes += 1 + CodedOutputStream.ComputeLengthSize(inner) + inner;
    }

    /// <summary>Empties the batch for the writer's next message.</summary>
    public void Clear()
    {
        Items.Clear();
        Bytes = 0;
    }

    /// <summary>Writes the message into the stream's serialization context.</summary>
    public void WriteTo(SerializationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.SetPayloadLength(Bytes);
        var writer = context.GetBufferWriter();
        foreach (var item in Items)
        {
            var timeout = TimeoutMicros(item, Now);
            var inner = InnerSize(item, timeout);
            var size = 1 + CodedOutputStream.ComputeLengthSize(inner) + inner;
            var span = writer.GetSpan(size);
            var at = 0;
            span[at++] = RequestsTag;
            at += ProtoWireWriter.WriteVarint(span[at..], (ulong)inner);
            span[at++] = IdTag;
            at += ProtoWireWriter.WriteVarint(span[at..], item.Id);
            if (item.Request is { } request)
            {
                span[at++] = TimeoutTag;
                at += ProtoWireWriter.WriteVarint(span[at..], timeout);
                span[at++] = (byte)(((int)item.Call << 3) | 2);
                at += ProtoWireWriter.WriteVarint(span[at..], (ulong)item.Length);
                request.InternalPrefix(item.Length).CopyTo(span[at..]);
                at += item.Length;
            }
            else
            {
                span[at++] = CancelTag;
                span[at++] = 1;
            }

            writer.Advance(at);
        }

        context.Complete();
    }

    // The time left, at least 1 µs (0 would mean "no bound" to the node).
    private static ulong TimeoutMicros(PendingExchange item, DateTime now) =>
        item.IsCancelNotice ? 0 : (ulong)Math.Max(1, (item.Deadline - now).Ticks / TimeSpan.TicksPerMicrosecond);

    private static int InnerSize(PendingExchange item, ulong timeout) => item.IsCancelNotice
        ? 1 + CodedOutputStream.ComputeUInt64Size(item.Id) + 2
        : 1 + CodedOutputStream.ComputeUInt64Size(item.Id) + 1 + CodedOutputStream.ComputeUInt64Size(timeout) + 1 + CodedOutputStream.ComputeLengthSize(item.Length) + item.Length;
}
