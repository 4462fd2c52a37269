using ReadHistory.Api.V1;
using ReadHistory.Cli.Output;

namespace ReadHistory.Cli.Tests;

/// <summary>The CLI names every answer source as the proto does, so a value added to the proto is never printed as a number.</summary>
public sealed class ProtoNamesTests
{
    [Fact]
    public void Every_answer_source_of_the_proto_prints_as_its_proto_name_without_the_prefix()
    {
        var values = ReadHistoryReflection.Descriptor.EnumTypes.Single(static e => e.Name == nameof(AnswerSource)).Values;

        Assert.Contains(values, static v => v.Name == "ANSWER_SOURCE_MEMORY_STALE");
        Assert.All(values, static v => Assert.Equal(v.Name["ANSWER_SOURCE_".Length..], ProtoNames.SourceName((AnswerSource)v.Number)));
    }

    [Fact]
    public async Task A_check_answered_from_a_stale_replica_says_so_in_its_summary()
    {
        var stale = new CheckResponse { ReadBitmap = Google.Protobuf.ByteString.CopyFrom(0b01), UnreadCount = 1, Source = AnswerSource.MemoryStale };

        var run = await CliRun.RunAsync(new FakeReadHistoryClient { CheckResponse = stale }, "check", "--user", "42", "--type", "0", "--ids", "11,12");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("11\tread\n12\tunread\n1 of 2 unread (source: MEMORY_STALE)\n", run.Output);
    }
}
