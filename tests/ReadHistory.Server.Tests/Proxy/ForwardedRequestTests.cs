using System.Buffers;
using Google.Protobuf;
using ReadHistory.Api.Internal.V1;
using ReadHistory.Api.V1;
using ReadHistory.Server.Api;
using ReadHistory.Server.Proxy;
using ReadHistory.TestSupport;
using ReadHistory.TestSupport.Server;
using Xunit;

namespace ReadHistory.Server.Tests.Proxy;

/// <summary>
/// The forwarding proxy's reading of request bytes against the generated parser on random requests: the same fields,
/// the same validation verdict, the same parse failure, and an envelope that decodes to the message the decoding path
/// would have sent.
/// </summary>
public sealed class ForwardedRequestTests
{
    private const int Requests = 3000;
    private static readonly RequestLimits Limits = ShippedDefaults.Get<RequestLimits>(RequestLimits.Section, l => l.MaxIdsPerCall = 600);
    private static readonly RequestValidator Validator = new(Limits, new ManualTimeProvider(DateTimeOffset.UtcNow));

    [Fact]
    public void A_check_read_from_its_bytes_matches_the_generated_parser_and_its_envelope_decodes_to_the_same_message()
    {
        var random = new RandomRequests(seed: 18, Limits.MaxIdsPerCall);
        var parsed = 0;
        for (var n = 0; n < Requests; n++)
        {
            var bytes = random.Check((ulong)n + 1);
            var expected = Parse(CheckRequest.Parser, bytes, out var failure);
            if (expected is null)
            {
                var thrown = Assert.Throws<InvalidProtocolBufferException>(() => ForwardedRequestReader.ReadCheck(new ReadOnlySequence<byte>(bytes)));
                Assert.Equal(failure, thrown.Message);
                continue;
            }

            parsed++;
            var request = ForwardedRequestReader.ReadCheck(new ReadOnlySequence<byte>(bytes));
            Assert.Equal(
                Validator.Validate(expected),
                Validator.ValidateCheck(request.UserId, request.ContentType, request.Count, request.FirstZeroId, request.SessionId, request.Tenant));
            Assert.Equal((expected.UserId, expected.SessionId, expected.Tenant, expected.ContentIds.Count), (request.UserId, request.SessionId, request.Tenant, request.Count));
            AssertEnvelope(new CacheCheckRequest { Request = expected }, request, CacheCheckRequest.Parser);
            request.Release();
        }

        Assert.InRange(parsed, Requests * 8 / 10, Requests);
    }

    [Fact]
    public void A_mark_read_read_from_its_bytes_matches_the_generated_parser_and_its_envelope_decodes_to_the_same_message()
    {
        var random = new RandomRequests(seed: 1018, Limits.MaxIdsPerCall);
        var latest = Validator.LatestReadAtMs();
        var parsed = 0;
        for (var n = 0; n < Requests / 3; n++)
        {
            var bytes = random.MarkRead((ulong)n + 1);
            var expected = Parse(MarkReadRequest.Parser, bytes, out var failure);
            if (expected is null)
            {
                var thrown = Assert.Throws<InvalidProtocolBufferException>(() => ForwardedRequestReader.ReadMarkRead(new ReadOnlySequence<byte>(bytes)));
                Assert.Equal(failure, thrown.Message);
                continue;
            }

            parsed++;
            var request = ForwardedRequestReader.ReadMarkRead(new ReadOnlySequence<byte>(bytes));
            var error = Validator.ValidateMarkRead(request.UserId, request.ContentType, request.SessionId, request.Tenant, request.Count)
                ?? ForwardedRequestReader.ItemsError(request, latest, static (latest, i, id, readAt) => Validator.ValidateItem(i, id, readAt, latest));
            Assert.Equal(Validator.Validate(expected), error);
            AssertEnvelope(new CacheMarkReadRequest { Request = expected }, request, CacheMarkReadRequest.Parser);
            request.Release();
        }

        Assert.InRange(parsed, Requests / 3 * 8 / 10, Requests / 3);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(127)]
    [InlineData(128)]
    [InlineData(20_000)]
    public void The_envelope_holds_a_request_of_any_length_with_and_without_passthrough(int ids)
    {
        var message = new CheckRequest { UserId = 9, SessionId = "s" };
        message.ContentIds.AddRange(Enumerable.Range(1, ids).Select(i => (ulong)i));
        var request = ForwardedRequestReader.ReadCheck(new ReadOnlySequence<byte>(message.ToByteArray()));

        AssertEnvelope(new CacheCheckRequest { Request = message }, request, CacheCheckRequest.Parser);
        Assert.Equal(ids, request.Count);
    }

    [Fact]
    public void An_answer_relayed_as_bytes_says_its_source_and_bitmap_length_as_the_decoded_answer_does()
    {
        var random = new Random(5);
        for (var n = 0; n < 500; n++)
        {
            var check = new CheckResponse { ReadBitmap = ByteString.CopyFrom(new byte[random.Next(0, 300)]), UnreadCount = (uint)random.Next(), Source = (AnswerSource)random.Next(0, 6) };
            var filter = new FilterResponse { Source = (AnswerSource)random.Next(0, 6) };
            filter.UnreadIds.AddRange(Enumerable.Range(0, random.Next(0, 50)).Select(i => (ulong)i));

            var relayed = RelayedAnswer.Copy(new ReadOnlySequence<byte>(check.ToByteArray()), sourceField: 3);
            Assert.Equal(check.Source, relayed.Source);
            Assert.Equal(check.ReadBitmap.Length == 0 ? -1 : check.ReadBitmap.Length, relayed.Peek(0, 1).Length);
            Assert.Equal(check.ToByteArray(), relayed.Bytes.ToArray());
            Assert.Equal(filter.Source, RelayedAnswer.Copy(new ReadOnlySequence<byte>(filter.ToByteArray()), sourceField: 2).Source);
            Assert.Equal(AnswerSource.Unspecified, RelayedAnswer.Copy(new ReadOnlySequence<byte>(new MarkReadResponse { Written = 3 }.ToByteArray()), sourceField: 0).Source);
        }
    }

    private static T? Parse<T>(MessageParser<T> parser, byte[] bytes, out string? failure)
        where T : class, IMessage<T>
    {
        try
        {
            failure = null;
            return parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            failure = e.Message;
            return null;
        }
    }

    private static void AssertEnvelope<T>(T expected, ForwardedRequest request, MessageParser<T> parser)
        where T : IMessage<T>
    {
        Assert.Equal(expected, parser.ParseFrom(request.Internal));
        request.Passthrough = true;
        var passthrough = parser.ParseFrom(request.Internal);
        request.Passthrough = false;
        Assert.True((bool)passthrough.Descriptor.FindFieldByName("passthrough").Accessor.GetValue(passthrough));
        // The client's bytes as they came (not re-encoded), behind field 1's tag and length.
        Assert.Equal(1 + CodedOutputStream.ComputeLengthSize(request.Payload.Length) + request.Payload.Length, request.Internal.Length);
    }
}
