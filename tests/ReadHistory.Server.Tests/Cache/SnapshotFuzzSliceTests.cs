using ReadHistory.Benchmarks.Fuzzing;
using ReadHistory.Core.Filters;
using Xunit;

namespace ReadHistory.Server.Tests.Cache;

/// <summary>
/// A short slice of <c>fuzz-snapshot</c> (bench/README.md): mutated Snapshot streams through the chunk decoder, the
/// warm-start assembler and the filter snapshot parser, as warm start receives them.
/// </summary>
public sealed class SnapshotFuzzSliceTests
{
    [Fact]
    public void Twenty_thousand_mutated_streams_end_in_no_exception_but_the_documented_ones_no_hang_and_bounded_memory()
    {
        var fuzzer = new SnapshotFuzzer(seed: 1);

        var report = fuzzer.Run(20_000);

        Assert.True(report.FindingTotal == 0, report.ToString());
        Assert.Equal(20_000, report.Inputs);
    }

    [Fact]
    public void The_slice_reaches_every_stage_a_stream_goes_through()
    {
        var report = new SnapshotFuzzer(seed: 1).Run(20_000);

        // Accepted streams, streams the decoder or assembler refuses, filters the snapshot validation refuses past a good CRC.
        Assert.True(report.Outcomes.GetValueOrDefault("completed") > 0, report.ToString());
        Assert.True(report.Outcomes.GetValueOrDefault(nameof(InvalidDataException)) > 0, report.ToString());
        Assert.True(report.Outcomes.GetValueOrDefault(nameof(FilterSnapshotException)) > 0, report.ToString());
    }

    [Fact]
    public void The_seed_streams_decode_whole()
    {
        var fuzzer = new SnapshotFuzzer(seed: 1);

        var report = fuzzer.Run(fuzzer.CorpusSize);

        Assert.Equal(fuzzer.CorpusSize, report.Outcomes.GetValueOrDefault("completed") + report.Outcomes.GetValueOrDefault("completed-empty"));
    }
}
