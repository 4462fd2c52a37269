using Google.Protobuf;
using ReadHistory.Api.V1;
using Grpc.Core;
using Grpc.Health.V1;

namespace ReadHistory.Cli.Tests;

public sealed class ErrorMappingTests
{
    [Theory]
    [InlineData(StatusCode.Cancelled, 2, "CANCELLED")]
    [InlineData(StatusCode.InvalidArgument, 4, "INVALID_ARGUMENT")]
    [InlineData(StatusCode.DeadlineExceeded, 5, "DEADLINE_EXCEEDED")]
    [InlineData(StatusCode.NotFound, 6, "NOT_FOUND")]
    [InlineData(StatusCode.ResourceExhausted, 9, "RESOURCE_EXHAUSTED")]
    [InlineData(StatusCode.Unavailable, 15, "UNAVAILABLE")]
    [InlineData(StatusCode.Unauthenticated, 17, "UNAUTHENTICATED")]
    public async Task A_failed_call_prints_the_status_and_exits_with_its_code_plus_one(StatusCode status, int exitCode, string name)
    {
        var client = new FakeReadHistoryClient { Failure = new Status(status, "the detail") };

        var run = await CliRun.RunAsync(client, "check", "--user", "1", "--type", "0", "--ids", "1");

        Assert.Equal(exitCode, run.ExitCode);
        Assert.Equal("error: " + name + ": the detail\n", run.Error);
        Assert.Empty(run.Output);
    }

    [Fact]
    public void Every_status_maps_to_its_own_exit_code_from_2_to_17()
    {
        var codes = Enum.GetValues<StatusCode>().Where(s => s != StatusCode.OK).Select(ExitCodes.FromStatus).ToArray();

        Assert.Equal(Enumerable.Range(2, 16), codes.Order());
        Assert.Equal(0, ExitCodes.FromStatus(StatusCode.OK));
    }

    [Fact]
    public async Task Failures_in_json_mode_still_go_to_stderr_as_an_error_line()
    {
        var client = new FakeReadHistoryClient { Failure = new Status(StatusCode.ResourceExhausted, "write queue full") };

        var run = await CliRun.RunAsync(client, "--json", "mark", "--user", "1", "--type", "0", "--ids", "1");

        Assert.Equal(9, run.ExitCode);
        Assert.Equal("error: RESOURCE_EXHAUSTED: write queue full\n", run.Error);
        Assert.Empty(run.Output);
    }

    [Fact]
    public async Task A_bitmap_shorter_than_the_ids_is_an_internal_error_not_a_row_of_unreads()
    {
        var client = new FakeReadHistoryClient { CheckResponse = new CheckResponse { ReadBitmap = ByteString.CopyFrom(0xFF) } };

        var run = await CliRun.RunAsync(client, "check", "--user", "1", "--type", "0", "--ids", "1,2,3,4,5,6,7,8,9");

        Assert.Equal(14, run.ExitCode);
        Assert.Equal("error: INTERNAL: the server answered a read_bitmap of 1 bytes for 9 ids (2 needed)\n", run.Error);
        Assert.Empty(run.Output);
    }

    [Theory]
    [InlineData(HealthCheckResponse.Types.ServingStatus.NotServing, "NOT_SERVING")]
    [InlineData(HealthCheckResponse.Types.ServingStatus.Unknown, "UNKNOWN")]
    public async Task Health_that_is_not_serving_exits_as_unavailable(HealthCheckResponse.Types.ServingStatus status, string name)
    {
        var client = new FakeReadHistoryClient { HealthResponse = new HealthCheckResponse { Status = status } };

        var run = await CliRun.RunAsync(client, "health", "--service", "readhistory.v1.ReadHistory");

        Assert.Equal(15, run.ExitCode);
        Assert.Equal(name + "\n", run.Output);
        Assert.Equal("error: UNAVAILABLE: service 'readhistory.v1.ReadHistory' is " + name + "\n", run.Error);
    }
}
