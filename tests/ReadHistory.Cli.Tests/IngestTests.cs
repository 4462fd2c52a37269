using ReadHistory.Api.V1;

namespace ReadHistory.Cli.Tests;

public sealed class IngestTests
{
    [Fact]
    public async Task Runs_of_one_user_and_type_share_a_batch_up_to_the_batch_size()
    {
        var client = new FakeReadHistoryClient();
        const string events = "# user,type,id,read_at_ms\n1,0,10\n1,0,11,1700000000000\n1,0,12\n\n1,1,13\n2,1,14\n1,0,15\n";

        var run = await CliRun.RunWithInputAsync(client, events, "ingest", "--batch-size", "2", "--tenant", "ingest");

        Assert.Equal(0, run.ExitCode);
        var batches = client.Requests.Cast<IngestRequest>().Select(r => r.Batch).ToArray();
        Assert.Equal(
        [
            "1/0:10@0,11@1700000000000",
            "1/0:12@0",
            "1/1:13@0",
            "2/1:14@0",
            "1/0:15@0",
        ], batches.Select(Describe));
        Assert.All(batches, b => Assert.Equal("ingest", b.Tenant));
        Assert.Contains("sent 6 events in 5 batches", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Events_come_from_the_named_file()
    {
        var path = Path.Combine(Path.GetTempPath(), "readhistory-cli-" + Guid.NewGuid().ToString("N") + ".csv");
        await File.WriteAllTextAsync(path, "42,0,1\n42,0,2\n");
        try
        {
            var client = new FakeReadHistoryClient();

            var run = await CliRun.RunAsync(client, "ingest", "--file", path);

            Assert.Equal(0, run.ExitCode);
            Assert.Equal("42/0:1@0,2@0", Describe(Assert.IsType<IngestRequest>(Assert.Single(client.Requests)).Batch));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task A_missing_file_is_a_usage_error()
    {
        var run = await CliRun.RunAsync(new FakeReadHistoryClient(), "ingest", "--file", "/nonexistent/events.csv");

        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith("error: --file: cannot read '/nonexistent/events.csv'", run.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1,0", "stdin:2: expected user,type,id[,read_at_ms]")]
    [InlineData("1,0,2,3,4", "stdin:2: expected user,type,id[,read_at_ms]")]
    [InlineData("0,0,2", "stdin:2: user '0' is not a number in 1 .. 18446744073709551615")]
    [InlineData("1,65536,2", "stdin:2: type '65536' is not a number in 0 .. 65535")]
    [InlineData("1,0,0", "stdin:2: content id '0' is not a number in 1 .. 18446744073709551615")]
    [InlineData("1,0,abc", "stdin:2: content id 'abc' is not a number in 1 .. 18446744073709551615")]
    [InlineData("1,0,2,-1", "stdin:2: read_at_ms '-1' is not a number in 0 .. 9223372036854775807")]
    public async Task A_malformed_line_stops_the_stream_with_its_line_number(string badLine, string expected)
    {
        var client = new FakeReadHistoryClient();

        var run = await CliRun.RunWithInputAsync(client, "5,0,1\n" + badLine + "\n5,0,3\n", "ingest");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("error: " + expected + "\n", run.Error);
        Assert.Empty(run.Output);
    }

    private static string Describe(MarkReadRequest batch) =>
        $"{batch.UserId}/{batch.ContentType}:" + string.Join(',', batch.Items.Select(i => $"{i.ContentId}@{i.ReadAtMs}"));
}
