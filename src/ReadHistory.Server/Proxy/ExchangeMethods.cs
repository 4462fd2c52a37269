using System.Buffers;
using System.Text;
using Grpc.Core;
using ReadHistory.Api.Internal.V1;

namespace ReadHistory.Server.Proxy;

/// <summary>
/// CacheNode.Exchange as the proxy calls it: requests written from the clients' bytes (<see cref="ExchangeBatch"/>), and
/// answers read into <see cref="ExchangeAnswer"/> values whose OK answers stay bytes (<see cref="RelayedAnswer"/>),
/// relayed to the clients as they are. The bytes on the wire are the messages of cache_node.proto.
/// </summary>
internal static class ExchangeMethods
{
    private const string Root = "ExchangeResponses";

    private static readonly Marshaller<ExchangeBatch> Requests = Marshallers.Create<ExchangeBatch>(
        static (batch, context) => batch.WriteTo(context),
        static _ => throw new NotSupportedException("the proxy does not read Exchange requests"));

    private static readonly Marshaller<List<ExchangeAnswer>> Answers = Marshallers.Create<List<ExchangeAnswer>>(
        static (_, _) => throw new NotSupportedException("the proxy does not write Exchange answers"),
        static context => Read(context.PayloadAsReadOnlySequence()));

    /// <summary>readhistory.internal.v1.CacheNode/Exchange.</summary>
    public static readonly Method<ExchangeBatch, List<ExchangeAnswer>> Exchange = new(MethodType.DuplexStreaming, CacheNode.Descriptor.FullName, "Exchange", Requests, Answers);

    /// <summary>The answers of one ExchangeResponses message; throws <see cref="InvalidDataException"/> when it is malformed.</summary>
    public static List<ExchangeAnswer> Read(ReadOnlySequence<byte> payload)
    {
        if (payload.IsSingleSegment)
        {
            return Read(payload.FirstSpan);
        }

        var length = checked((int)payload.Length);
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            payload.CopyTo(buffer);
            return Read(buffer.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static List<ExchangeAnswer> Read(ReadOnlySpan<byte> message)
    {
        var answers = new List<ExchangeAnswer>();
        var reader = new ProtoWireReader(message, 0, Root, Root);
        while (!reader.AtEnd)
        {
            var (field, wire) = reader.ReadTag();
            if (field == ExchangeResponses.ResponsesFieldNumber && wire == ProtoWireReader.WireLength)
            {
                answers.Add(ReadAnswer(reader.ReadLengthDelimited("responses")));
            }
            else
            {
                reader.Skip(field, wire);
            }
        }

        return answers;
    }

    // Last value wins for every field, as the generated parser reads them; an answer field of another kind replaces it (oneof).
    private static ExchangeAnswer ReadAnswer(ReadOnlySpan<byte> message)
    {
        var reader = new ProtoWireReader(message, 0, Root, "ExchangeResponse");
        ulong id = 0;
        var code = 0;
        var detail = string.Empty;
        uint retryAfter = 0;
        var cause = string.Empty;
        var answerField = 0;
        var answer = ReadOnlySpan<byte>.Empty;
        while (!reader.AtEnd)
        {
            var (field, wire) = reader.ReadTag();
            switch (field)
            {
                case ExchangeResponse.IdFieldNumber when wire == ProtoWireReader.WireVarint:
                    id = reader.ReadVarint("id");
                    break;
                case ExchangeResponse.StatusCodeFieldNumber when wire == ProtoWireReader.WireVarint:
                    code = (int)reader.ReadVarint("status_code");
                    break;
                case ExchangeResponse.StatusDetailFieldNumber when wire == ProtoWireReader.WireLength:
                    detail = Encoding.UTF8.GetString(reader.ReadLengthDelimited("status_detail"));
                    break;
                case ExchangeResponse.RetryAfterMsFieldNumber when wire == ProtoWireReader.WireVarint:
                    retryAfter = (uint)reader.ReadVarint("retry_after_ms");
                    break;
                case ExchangeResponse.CauseFieldNumber when wire == ProtoWireReader.WireLength:
                    cause = Encoding.UTF8.GetString(reader.ReadLengthDelimited("cause"));
                    break;
                case ExchangeResponse.CheckFieldNumber or ExchangeResponse.FilterFieldNumber or ExchangeResponse.MarkReadFieldNumber when wire == ProtoWireReader.WireLength:
                    answerField = field;
                    answer = reader.ReadLengthDelimited("answer");
                    break;
                default:
                    reader.Skip(field, wire);
                    break;
            }
        }

        var relayed = code == 0 && answerField != 0 ? RelayedAnswer.Copy(answer, SourceFieldOf(answerField)) : null;
        return new ExchangeAnswer(id, code, detail, retryAfter, cause, answerField, relayed);
    }

    // Where the answer's AnswerSource lives: CheckResponse.source = 3, FilterResponse.source = 2, MarkReadResponse none.
    private static int SourceFieldOf(int answerField) => answerField switch
    {
        ExchangeResponse.CheckFieldNumber => 3,
        ExchangeResponse.FilterFieldNumber => 2,
        _ => 0,
    };
}
