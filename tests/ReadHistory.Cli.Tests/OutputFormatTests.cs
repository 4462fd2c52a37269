using Google.Protobuf;
using ReadHistory.Api.V1;
using Grpc.Health.V1;

namespace ReadHistory.Cli.Tests;

public sealed class OutputFormatTests
{
    private static readonly string[] CheckArgs = ["check", "--user", "42", "--type", "0", "--ids", "11,12,13,14,15,16,17,18,19,20"];

    // LSB first: byte 0 bits 0 and 2 (ids 11 and 13), byte 1 bit 1 (id 20).
    private static readonly CheckResponse CannedCheck = new()
    {
        ReadBitmap = ByteString.CopyFrom(0b0000_0101, 0b0000_0010),
        UnreadCount = 7,
        Source = AnswerSource.Memory,
    };

    [Fact]
    public async Task Check_prints_each_id_with_its_bit_then_a_summary()
    {
        var run = await CliRun.RunAsync(new FakeReadHistoryClient { CheckResponse = CannedCheck }, CheckArgs);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(
            "11\tread\n12\tunread\n13\tread\n14\tunread\n15\tunread\n16\tunread\n17\tunread\n18\tunread\n19\tunread\n20\tread\n" +
            "7 of 10 unread (source: MEMORY)\n",
            run.Output);
        Assert.Empty(run.Error);
    }

    [Fact]
    public async Task Check_as_json_lists_results_aligned_with_the_ids()
    {
        var run = await CliRun.RunAsync(new FakeReadHistoryClient { CheckResponse = CannedCheck }, [.. CheckArgs, "--json"]);

        Assert.Equal(
            "{\"user_id\":42,\"content_type\":0,\"results\":[" +
            "{\"content_id\":11,\"read\":true},{\"content_id\":12,\"read\":false},{\"content_id\":13,\"read\":true}," +
            "{\"content_id\":14,\"read\":false},{\"content_id\":15,\"read\":false},{\"content_id\":16,\"read\":false}," +
            "{\"content_id\":17,\"read\":false},{\"content_id\":18,\"read\":false},{\"content_id\":19,\"read\":false}," +
            "{\"content_id\":20,\"read\":true}],\"unread_count\":7,\"source\":\"MEMORY\"}\n",
            run.Output);
    }

    [Fact]
    public async Task Filter_prints_bare_unread_ids_one_per_line()
    {
        var client = new FakeReadHistoryClient { FilterResponse = new FilterResponse { UnreadIds = { 12, 18446744073709551615 }, Source = AnswerSource.Database } };

        var run = await CliRun.RunAsync(client, "filter", "--user", "42", "--type", "0", "--ids", "11,12,18446744073709551615");

        Assert.Equal("12\n18446744073709551615\n", run.Output);
    }

    [Fact]
    public async Task Filter_as_json_writes_64_bit_ids_exactly()
    {
        var client = new FakeReadHistoryClient { FilterResponse = new FilterResponse { UnreadIds = { 12, 18446744073709551615 }, Source = AnswerSource.Passthrough } };

        var run = await CliRun.RunAsync(client, "filter", "--json", "--user", "42", "--type", "3", "--ids", "11,12,18446744073709551615");

        Assert.Equal("{\"user_id\":42,\"content_type\":3,\"unread_ids\":[12,18446744073709551615],\"source\":\"PASSTHROUGH\"}\n", run.Output);
    }

    [Fact]
    public async Task Mark_prints_how_many_were_written()
    {
        var client = new FakeReadHistoryClient { MarkReadResponse = new MarkReadResponse { Written = 2 } };

        var human = await CliRun.RunAsync(client, "mark", "--user", "42", "--type", "0", "--ids", "1,2,2");
        var json = await CliRun.RunAsync(client, "mark", "--user", "42", "--type", "0", "--ids", "1,2,2", "--json");

        Assert.Equal("written 2 of 3 for user 42\n", human.Output);
        Assert.Equal("{\"user_id\":42,\"content_type\":0,\"items\":3,\"written\":2}\n", json.Output);
    }

    [Fact]
    public async Task Forget_prints_the_rows_removed()
    {
        var client = new FakeReadHistoryClient { ForgetUserResponse = new ForgetUserResponse { RowsRemoved = 12 } };

        var human = await CliRun.RunAsync(client, "forget", "--user", "42");
        var json = await CliRun.RunAsync(client, "forget", "--user", "42", "--json");

        Assert.Equal("forgot user 42: 12 rows removed\n", human.Output);
        Assert.Equal("{\"user_id\":42,\"rows_removed\":12}\n", json.Output);
    }

    [Fact]
    public async Task Health_prints_the_serving_status()
    {
        var client = new FakeReadHistoryClient();

        var human = await CliRun.RunAsync(client, "health");
        var json = await CliRun.RunAsync(client, "health", "--service", "x", "--json");

        Assert.Equal("SERVING\n", human.Output);
        Assert.Equal("{\"service\":\"x\",\"status\":\"SERVING\"}\n", json.Output);
    }

    [Fact]
    public async Task Explain_asks_the_node_given_and_names_a_false_positive()
    {
        var client = new FakeReadHistoryClient
        {
            ExplainResponse = new ReadHistory.Api.Internal.V1.ExplainResponse
            {
                Pool = "feed", Held = true, FilterRead = true, AnsweringLayer = 1, DatabaseRead = false, Rows = 12, Layers = 2,
                Items = 12, Capacity = 80, BitBytes = 128, MemoryBytes = 312, FalsePositiveRateEstimate = 0.0015,
                PoolFalsePositiveRateMeasured = 0.004, PoolFalsePositiveSamples = 25_000,
            },
        };

        var human = await CliRun.RunAsync(client, "explain", "--node", "http://10.0.0.5:50052", "--user", "7", "--type", "2", "--id", "99");
        Assert.Equal(new Uri("http://10.0.0.5:50052"), client.Endpoint);
        var json = await CliRun.RunAsync(client, "explain", "--user", "7", "--id", "99", "--json");

        Assert.Equal(new Uri("http://127.0.0.1:50052"), client.Endpoint);
        var request = Assert.IsType<ReadHistory.Api.Internal.V1.ExplainRequest>(client.Requests[0]);
        Assert.Equal((7UL, 2U, 99UL, string.Empty), (request.UserId, request.ContentType, request.ContentId, request.Pool));
        Assert.Equal(
            "pool feed, user 7, type 2, id 99\n" +
            "filter:   read (layer 1 of 2)  <- a false positive\n" +
            "database: unread (12 rows for the user)\n" +
            "user filter: 2 layers, 12 items of 80 capacity, 128 bit bytes, 312 heap bytes, estimated false-positive rate 0.0015\n" +
            "pool measured false-positive rate: 0.004 over 25000 negatives\n",
            human.Output);
        Assert.Contains("\"false_positive\":true", json.Output, StringComparison.Ordinal);
        Assert.Contains("\"answering_layer\":1", json.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ingest_prints_what_was_sent_and_accepted()
    {
        var client = new FakeReadHistoryClient { IngestResponse = new IngestResponse { Accepted = 3 } };

        var human = await CliRun.RunWithInputAsync(client, "1,0,5\n1,0,6\n2,0,7\n", "ingest");
        var json = await CliRun.RunWithInputAsync(client, "1,0,5\n1,0,6\n2,0,7\n", "ingest", "--json");

        Assert.Equal("sent 3 events in 2 batches: accepted 3, rejected 0\n", human.Output);
        Assert.Equal("{\"events\":3,\"batches\":2,\"accepted\":3,\"rejected\":0,\"first_error\":\"\"}\n", json.Output);
    }

    [Fact]
    public async Task Ingest_with_rejections_reports_the_first_error_and_still_exits_0()
    {
        var client = new FakeReadHistoryClient { IngestResponse = new IngestResponse { Accepted = 1, Rejected = 2, FirstError = "read_at_ms \"9e15\" is later than now + 1 day" } };

        var human = await CliRun.RunWithInputAsync(client, "1,0,5\n", "ingest");
        var json = await CliRun.RunWithInputAsync(client, "1,0,5\n", "ingest", "--json");

        Assert.Equal(0, human.ExitCode);
        Assert.Equal("sent 1 events in 1 batches: accepted 1, rejected 2\nfirst error: read_at_ms \"9e15\" is later than now + 1 day\n", human.Output);
        Assert.Equal("warning: 2 events rejected: read_at_ms \"9e15\" is later than now + 1 day\n", human.Error);
        Assert.Contains("\"first_error\":\"read_at_ms \\\"9e15\\\" is later than now + 1 day\"", json.Output, StringComparison.Ordinal);
    }
}
