using ReadHistory.Api.V1;
using Grpc.Health.V1;

namespace ReadHistory.Cli.Tests;

public sealed class ArgumentParsingTests
{
    [Fact]
    public async Task Check_builds_the_request_from_its_options()
    {
        var client = new FakeReadHistoryClient { CheckResponse = new CheckResponse { ReadBitmap = Google.Protobuf.ByteString.CopyFrom(0) } };

        var run = await CliRun.RunAsync(client, "check", "--user", "42", "--type", "7", "--ids", "1,2,3", "--session", "s-1", "--tenant", "feed", "--deadline-ms", "90");

        Assert.Equal(0, run.ExitCode);
        var request = Assert.IsType<CheckRequest>(Assert.Single(client.Requests));
        Assert.Equal(42UL, request.UserId);
        Assert.Equal(7U, request.ContentType);
        Assert.Equal([1UL, 2, 3], request.ContentIds);
        Assert.Equal("s-1", request.SessionId);
        Assert.Equal("feed", request.Tenant);
        Assert.Equal(CliRun.Now.UtcDateTime.AddMilliseconds(90), Assert.Single(client.Deadlines));
    }

    [Fact]
    public async Task Ids_may_be_split_over_repeated_options_and_keep_their_order_and_duplicates()
    {
        var client = new FakeReadHistoryClient();

        await CliRun.RunAsync(client, "filter", "--user", "1", "--type", "0", "--ids", "5, 3", "--ids", "5");

        Assert.Equal([5UL, 3, 5], Assert.IsType<CheckRequest>(Assert.Single(client.Requests)).ContentIds);
    }

    [Fact]
    public async Task The_largest_ids_and_type_are_accepted()
    {
        var client = new FakeReadHistoryClient();

        var run = await CliRun.RunAsync(client, "filter", "--user", "18446744073709551615", "--type", "65535", "--ids", "18446744073709551615");

        Assert.Equal(0, run.ExitCode);
        var request = Assert.IsType<CheckRequest>(Assert.Single(client.Requests));
        Assert.Equal(ulong.MaxValue, request.UserId);
        Assert.Equal(65535U, request.ContentType);
    }

    [Fact]
    public async Task Endpoint_and_json_are_accepted_before_or_after_the_command()
    {
        var client = new FakeReadHistoryClient();

        var run = await CliRun.RunAsync(client, "--json", "health", "--endpoint", "http://127.0.0.1:6000");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(new Uri("http://127.0.0.1:6000"), client.Endpoint);
        Assert.StartsWith("{", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_default_endpoint_and_deadline_apply_when_not_given()
    {
        var client = new FakeReadHistoryClient();

        await CliRun.RunAsync(client, "forget", "--user", "9");

        Assert.Equal(new Uri("http://127.0.0.1:50051"), client.Endpoint);
        Assert.Equal(CliRun.Now.UtcDateTime.AddMilliseconds(10_000), Assert.Single(client.Deadlines));
        Assert.Equal(new ForgetUserRequest { UserId = 9 }, Assert.Single(client.Requests));
    }

    [Fact]
    public async Task The_content_type_is_0_when_not_given()
    {
        var client = new FakeReadHistoryClient();

        await CliRun.RunAsync(client, "filter", "--user", "1", "--ids", "1");

        Assert.Equal(0U, Assert.IsType<CheckRequest>(Assert.Single(client.Requests)).ContentType);
    }

    [Fact]
    public async Task Mark_sends_one_item_per_id_with_the_read_time()
    {
        var client = new FakeReadHistoryClient();

        await CliRun.RunAsync(client, "mark", "--user", "42", "--type", "0", "--ids", "1,2", "--read-at-ms", "1700000000000");

        var request = Assert.IsType<MarkReadRequest>(Assert.Single(client.Requests));
        Assert.Equal([new ReadItem { ContentId = 1, ReadAtMs = 1_700_000_000_000 }, new ReadItem { ContentId = 2, ReadAtMs = 1_700_000_000_000 }], request.Items);
    }

    [Fact]
    public async Task Health_asks_about_the_named_service()
    {
        var client = new FakeReadHistoryClient();

        await CliRun.RunAsync(client, "health", "--service", "readhistory.v1.ReadHistory");

        Assert.Equal(new HealthCheckRequest { Service = "readhistory.v1.ReadHistory" }, Assert.Single(client.Requests));
    }

    [Theory]
    [InlineData("--user: '0' is not a number", "check", "--user", "0", "--type", "0", "--ids", "1")]
    [InlineData("--user: '-1' is not a number", "check", "--user", "-1", "--type", "0", "--ids", "1")]
    [InlineData("--user: '18446744073709551616' is not a number", "check", "--user", "18446744073709551616", "--type", "0", "--ids", "1")]
    [InlineData("--type: '65536' is not a number in 0 .. 65535", "check", "--user", "1", "--type", "65536", "--ids", "1")]
    [InlineData("--ids: '0' is not a content id", "filter", "--user", "1", "--type", "0", "--ids", "1,0")]
    [InlineData("--ids: 'x' is not a content id", "filter", "--user", "1", "--type", "0", "--ids", "1,x")]
    [InlineData("--ids: 0 ids given", "filter", "--user", "1", "--type", "0", "--ids", ",")]
    [InlineData("Option '--user' is required", "check", "--type", "0", "--ids", "1")]
    [InlineData("Option '--ids' is required", "mark", "--user", "1", "--type", "0")]
    [InlineData("--tenant: 'Feed' may hold only", "check", "--user", "1", "--type", "0", "--ids", "1", "--tenant", "Feed")]
    [InlineData("--deadline-ms: '0' is not a number", "check", "--user", "1", "--type", "0", "--ids", "1", "--deadline-ms", "0")]
    [InlineData("--read-at-ms: '-5' is not a number", "mark", "--user", "1", "--type", "0", "--ids", "1", "--read-at-ms", "-5")]
    [InlineData("--endpoint: 'ftp://host' is not an http:// or https:// address", "health", "--endpoint", "ftp://host")]
    [InlineData("--batch-size: '10001' is not a number in 1 .. 10000", "ingest", "--batch-size", "10001")]
    [InlineData("Unrecognized command or argument 'bogus'", "bogus")]
    [InlineData("Required command was not provided", new string[0])]
    public async Task Bad_arguments_exit_1_with_an_error_line_and_call_nothing(string expectedError, params string[] args)
    {
        var client = new FakeReadHistoryClient();

        var run = await CliRun.RunAsync(client, args);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("error: " + expectedError, run.Error, StringComparison.Ordinal);
        Assert.Contains("--help' for usage", run.Error, StringComparison.Ordinal);
        Assert.Empty(run.Output);
        Assert.Empty(client.Requests);
    }

    [Fact]
    public async Task More_than_ten_thousand_ids_is_a_usage_error()
    {
        var ids = string.Join(',', Enumerable.Range(1, 10_001));

        var run = await CliRun.RunAsync(new FakeReadHistoryClient(), "check", "--user", "1", "--type", "0", "--ids", ids);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("error: --ids: 10001 ids given, 1 .. 10000 allowed per call", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_session_over_128_bytes_is_a_usage_error()
    {
        var run = await CliRun.RunAsync(new FakeReadHistoryClient(), "check", "--user", "1", "--type", "0", "--ids", "1", "--session", new string('é', 65));

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("error: --session: at most 128 bytes of UTF-8 allowed", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_exits_0_and_names_every_command()
    {
        var run = await CliRun.RunAsync(new FakeReadHistoryClient(), "--help");

        Assert.Equal(0, run.ExitCode);
        foreach (var command in new[] { "check", "filter", "mark", "ingest", "forget", "health" })
        {
            Assert.Contains(command, run.Output, StringComparison.Ordinal);
        }
    }
}
