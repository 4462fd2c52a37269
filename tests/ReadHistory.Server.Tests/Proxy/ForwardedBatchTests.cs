using System.Buffers;
using Google.Protobuf;
using Grpc.Core;
using ReadHistory.Api.Internal.V1;
using ReadHistory.Api.V1;
using ReadHistory.Server.Api;
using ReadHistory.Server.Proxy;
using ReadHistory.TestSupport;
using ReadHistory.TestSupport.Server;
using Xunit;

namespace ReadHistory.Server.Tests.Proxy;

/// <summary>
/// A BatchCheck kept as bytes against the generated parser on random requests: the same entries, fields and validation
/// verdicts, the same parse failure, slot shares that decode to the entries the client sent, and an answer merged
/// from the nodes' results and the proxy's failures that is byte for byte the decoding path's.
/// </summary>
public sealed class ForwardedBatchTests
{
    private const int Requests = 1500;
    private static readonly RequestLimits Limits = ShippedDefaults.Get<RequestLimits>(RequestLimits.Section, l =>
    {
        l.MaxIdsPerCall = 600;
        l.MaxBatchUsers = 6;
        l.MaxBatchIds = 1800;
    });

    private static readonly RequestValidator Validator = new(Limits, new ManualTimeProvider(DateTimeOffset.UtcNow));

    [Fact]
    public void A_batch_read_from_its_bytes_matches_the_generated_parser_and_its_slot_shares_decode_to_the_clients_entries()
    {
        var random = new RandomRequests(seed: 1818, Limits.MaxIdsPerCall);
        var users = new Random(1819);
        var (scanned, decoded) = (0, 0);
        for (var n = 0; n < Requests; n++)
        {
            var bytes = random.BatchCheck([.. Enumerable.Range(0, users.Next(8)).Select(_ => (ulong)users.Next(0, 100))]);
            var expected = Parse(bytes, out var failure);
            if (expected is null)
            {
                var thrown = Assert.Throws<InvalidProtocolBufferException>(() => ForwardedRequestReader.ReadBatch(new ReadOnlySequence<byte>(bytes)));
                Assert.Equal(failure, thrown.Message);
                continue;
            }

            var batch = ForwardedRequestReader.ReadBatch(new ReadOnlySequence<byte>(bytes));
            if (batch.Decoded is not null)
            {
                // Bytes the scan does not follow (groups): the decoding path gets the generated parser's message.
                Assert.Equal(expected, batch.Decoded);
                decoded++;
                continue;
            }

            scanned++;
            Assert.Equal(expected.Requests.Count, batch.Count);
            Assert.Equal(expected.Tenant, batch.Tenant);
            Assert.Equal(
                Validator.Validate(expected),
                Validator.ValidateBatch(batch.Count, batch.Ids, batch.Tenant));
            for (var i = 0; i < batch.Count; i++)
            {
                var entry = expected.Requests[i];
                var fields = batch.FieldsOf(i);
                Assert.Equal(entry, CheckRequest.Parser.ParseFrom(batch.EntryBytes(i)));
                Assert.Equal((entry.UserId, entry.ContentType, entry.ContentIds.Count, entry.SessionId, entry.Tenant), (fields.UserId, fields.ContentType, fields.Count, fields.SessionId, fields.Tenant));
                Assert.Equal(entry.ContentIds.Count, batch.IdsOf(i));

                // The decoding path validates the entry once its empty tenant took the request's.
                var substituted = entry.Clone();
                if (substituted.Tenant.Length == 0)
                {
                    substituted.Tenant = expected.Tenant;
                }

                Assert.Equal(substituted.Tenant, batch.TenantOf(i));
                Assert.Equal(
                    Validator.ValidateEntry(substituted, i),
                    Validator.ValidateEntry(fields.UserId, fields.ContentType, fields.Count, fields.FirstZeroId, batch.TenantOf(i), i));
            }

            // A slot's share: every other entry, in request order, with the request's tenant.
            var members = Enumerable.Range(0, batch.Count).Where(i => i % 2 == n % 2).ToList();
            var share = new CacheBatchCheckRequest { Request = new BatchCheckRequest { Tenant = expected.Tenant } };
            share.Request.Requests.AddRange(members.Select(i => expected.Requests[i]));
            var slot = new BatchSlotRequest(batch, members);
            Assert.Equal(share, CacheBatchCheckRequest.Parser.ParseFrom(Written(slot, passthrough: false)));
            share.Passthrough = true;
            Assert.Equal(share, CacheBatchCheckRequest.Parser.ParseFrom(Written(slot, passthrough: true)));
            batch.Release();
        }

        // Groups in unknown fields send a share of the requests to the generated parser; the others are scanned.
        Assert.InRange(scanned, Requests / 5, Requests);
        Assert.InRange(decoded, 1, Requests);
    }

    [Fact]
    public void An_answer_merged_from_the_nodes_results_and_the_proxys_failures_is_the_decoding_paths_answer()
    {
        var random = new Random(18);
        for (var n = 0; n < 500; n++)
        {
            // A request of 1 .. 12 entries: some failed on the proxy, the others answered by one of two nodes.
            var entries = random.Next(1, 13);
            var request = new BatchCheckRequest();
            request.Requests.AddRange(Enumerable.Range(0, entries).Select(i => new CheckRequest { UserId = (ulong)i + 1, ContentIds = { 1 } }));
            var batch = ForwardedRequestReader.ReadBatch(new ReadOnlySequence<byte>(request.ToByteArray()));
            var expected = new UserCheckResult[entries];
            var nodes = new[] { new BatchCheckResponse(), new BatchCheckResponse() };
            var placed = new List<(int Entry, int Node, int Result)>();
            for (var i = 0; i < entries; i++)
            {
                if (random.Next(4) == 0)
                {
                    var code = (StatusCode)random.Next(1, 17);
                    var message = random.Next(5) == 0 ? string.Empty : $"cache pool 'default' refused entry {i}: ünïcødé {new string('x', random.Next(200))}";
                    batch.Fail(i, code, message);
                    expected[i] = new UserCheckResult { StatusCode = (int)code, StatusMessage = message };
                    continue;
                }

                var result = RandomResult(random);
                var node = random.Next(2);
                placed.Add((i, node, nodes[node].Results.Count));
                nodes[node].Results.Add(result);
                expected[i] = result;
            }

            var relayed = nodes.Select(node => RelayedBatch.Copy(new ReadOnlySequence<byte>(node.ToByteArray()))).ToArray();
            foreach (var (entry, node, result) in placed)
            {
                batch.Answer(entry, relayed[node], result);
            }

            var answer = new BatchCheckResponse { Results = { expected } };
            Assert.Equal(answer.ToByteArray(), batch.AnswerBytes());
            for (var node = 0; node < nodes.Length; node++)
            {
                Assert.Equal(nodes[node].Results.Count, relayed[node].Count);
                Assert.Equal(FirstMemorySource(nodes[node]), relayed[node].Source);
            }
        }
    }

    private static UserCheckResult RandomResult(Random random) => random.Next(3) switch
    {
        0 => new UserCheckResult { StatusCode = random.Next(1, 17), StatusMessage = "the node refuses" },
        1 => new UserCheckResult(),
        _ => new UserCheckResult
        {
            Response = new CheckResponse
            {
                ReadBitmap = ByteString.CopyFrom(new byte[random.Next(0, 80)]),
                UnreadCount = (uint)random.Next(0, 600),
                Source = (AnswerSource)random.Next(0, 6),
            },
        },
    };

    // The decoding path's reading of a node's answer for the freshness mark.
    private static AnswerSource FirstMemorySource(BatchCheckResponse response) =>
        response.Results.Select(static r => r.Response?.Source ?? AnswerSource.Unspecified).FirstOrDefault(static s => s is AnswerSource.Memory or AnswerSource.MemoryStale);

    private static byte[] Written(BatchSlotRequest slot, bool passthrough)
    {
        var writer = new ArrayBufferWriter<byte>();
        slot.Write(writer, passthrough);
        return writer.WrittenSpan.ToArray();
    }

    private static BatchCheckRequest? Parse(byte[] bytes, out string? failure)
    {
        try
        {
            failure = null;
            return BatchCheckRequest.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            failure = e.Message;
            return null;
        }
    }
}
