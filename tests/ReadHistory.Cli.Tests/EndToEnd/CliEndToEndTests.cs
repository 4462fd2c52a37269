namespace ReadHistory.Cli.Tests.EndToEnd;

/// <summary>In-process tier: the CLI's entry point against a Kestrel gRPC server on loopback. Each test uses its own user ids.</summary>
public sealed class CliEndToEndTests(ReadHistoryServerFixture server) : IClassFixture<ReadHistoryServerFixture>
{
    [Fact]
    public async Task Mark_then_check_and_filter_see_the_reads()
    {
        var mark = await RunAsync("mark", "--user", "1001", "--type", "0", "--ids", "1,3");
        var check = await RunAsync("check", "--user", "1001", "--type", "0", "--ids", "1,2,3", "--session", "s", "--tenant", "feed", "--deadline-ms", "5000");
        var filter = await RunAsync("filter", "--user", "1001", "--type", "0", "--ids", "1,2,3,4");

        Assert.Equal((0, "written 2 of 2 for user 1001\n", ""), (mark.ExitCode, mark.Output, mark.Error));
        Assert.Equal((0, "1\tread\n2\tunread\n3\tread\n1 of 3 unread (source: MEMORY)\n", ""), (check.ExitCode, check.Output, check.Error));
        Assert.Equal((0, "2\n4\n", ""), (filter.ExitCode, filter.Output, filter.Error));
    }

    [Fact]
    public async Task Check_as_json_decodes_the_bitmap_past_the_first_byte()
    {
        await RunAsync("mark", "--user", "1002", "--type", "5", "--ids", "9,10");

        var check = await RunAsync("--json", "check", "--user", "1002", "--type", "5", "--ids", "1,2,3,4,5,6,7,8,9,10");

        Assert.Equal(0, check.ExitCode);
        Assert.EndsWith("{\"content_id\":8,\"read\":false},{\"content_id\":9,\"read\":true},{\"content_id\":10,\"read\":true}],\"unread_count\":8,\"source\":\"MEMORY\"}\n", check.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ingest_streams_batches_from_stdin_and_reports_server_rejections()
    {
        var farFuture = DateTimeOffset.UtcNow.AddDays(30).ToUnixTimeMilliseconds();
        var events = string.Join('\n', Enumerable.Range(1, 250).Select(i => $"1003,0,{i}")) + $"\n1004,0,7\n1004,0,8,{farFuture}\n";

        var ingest = await RunWithInputAsync(events, "ingest", "--batch-size", "100");
        var filter = await RunAsync("filter", "--user", "1003", "--type", "0", "--ids", "1,250,251");

        Assert.Equal(0, ingest.ExitCode);
        Assert.Equal($"sent 252 events in 4 batches: accepted 251, rejected 1\nfirst error: read_at_ms {farFuture} is later than now + 1 day\n", ingest.Output);
        Assert.StartsWith("warning: 1 events rejected", ingest.Error, StringComparison.Ordinal);
        Assert.Equal("251\n", filter.Output);
    }

    [Fact]
    public async Task Ingest_stops_at_a_malformed_line_with_exit_1()
    {
        var ingest = await RunWithInputAsync("1005,0,1\n1005,0,x\n", "ingest");

        Assert.Equal(1, ingest.ExitCode);
        Assert.Equal("error: stdin:2: content id 'x' is not a number in 1 .. 18446744073709551615\n", ingest.Error);
    }

    [Fact]
    public async Task Forget_removes_the_history()
    {
        await RunAsync("mark", "--user", "1006", "--type", "0", "--ids", "1,2,3");
        await RunAsync("mark", "--user", "1006", "--type", "1", "--ids", "1");

        var forget = await RunAsync("forget", "--user", "1006", "--json");
        var filter = await RunAsync("filter", "--user", "1006", "--type", "0", "--ids", "1,2,3");

        Assert.Equal((0, "{\"user_id\":1006,\"rows_removed\":4}\n"), (forget.ExitCode, forget.Output));
        Assert.Equal("1\n2\n3\n", filter.Output);
    }

    [Fact]
    public async Task An_invalid_argument_status_exits_4_with_the_server_message()
    {
        var check = await RunAsync("check", "--user", "1007", "--type", "500", "--ids", "1");

        Assert.Equal(4, check.ExitCode);
        Assert.Equal("error: INVALID_ARGUMENT: content_type 500 is not configured (0 .. 100)\n", check.Error);
        Assert.Empty(check.Output);
    }

    [Fact]
    public async Task A_call_past_its_deadline_exits_5()
    {
        var forget = await RunAsync("forget", "--user", "666", "--deadline-ms", "200");

        Assert.Equal(5, forget.ExitCode);
        Assert.StartsWith("error: DEADLINE_EXCEEDED: ", forget.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Health_reports_serving_and_an_unknown_service_as_not_found()
    {
        var all = await RunAsync("health");
        var service = await RunAsync("health", "--service", "readhistory.v1.ReadHistory", "--json");
        var unknown = await RunAsync("health", "--service", "nope.v1.Nope");

        Assert.Equal((0, "SERVING\n"), (all.ExitCode, all.Output));
        Assert.Equal((0, "{\"service\":\"readhistory.v1.ReadHistory\",\"status\":\"SERVING\"}\n"), (service.ExitCode, service.Output));
        Assert.Equal((6, "error: NOT_FOUND: unknown service 'nope.v1.Nope'\n"), (unknown.ExitCode, unknown.Error));
    }

    [Fact]
    public async Task A_server_that_is_not_there_exits_15_unavailable()
    {
        var health = await CliRun.RunRealAsync(string.Empty, "health", "--endpoint", "http://127.0.0.1:" + TestSupport.FreePort.Next());

        Assert.Equal(15, health.ExitCode);
        Assert.StartsWith("error: UNAVAILABLE: ", health.Error, StringComparison.Ordinal);
    }

    private Task<CliRun> RunAsync(params string[] args) => RunWithInputAsync(string.Empty, args);

    private Task<CliRun> RunWithInputAsync(string input, params string[] args) =>
        CliRun.RunRealAsync(input, [.. args, "--endpoint", server.Endpoint]);
}
