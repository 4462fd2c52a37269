using ReadHistory.Benchmarks.Fuzzing;
using ReadHistory.MySql.Replication.Events;
using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.MySql.Replication.Tests;

/// <summary>
/// A short slice of <c>fuzz-binlog</c> (bench/README.md) on real events captured from the fixture's MariaDB, and every
/// input the fuzzer ever found a problem with, replayed.
/// </summary>
[Collection(MariaDbFixture.Collection)]
public sealed class BinlogFuzzSliceTests(MariaDbFixture fixture)
{
    // Found by fuzz-binlog --seed 1 (input 5,591): a WRITE_ROWS event whose columns-present bitmap names none of the
    // table's columns, followed by row bytes. A row then took no bytes and BinlogRowReader.Read looped for ever.
    private const string NoColumnPresentRows = "0BFC00000018DC166B0F01000000FC000000000100000000040031302E31312E31392D4D6172696144422D302B646562313275312D6C6F6700000000000000000000000000000000000000000000000013380D000800120004040404120000E400041A08000000080808020000000A0A0A0000000000000A0A0A0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000041304000D0808080A0A0A01EE3D00877500000018DC166B130100000075000000EE100000000016000000000001001166757A7A5F3665353662646562396262390007686973746F72790004080208120103000101E0042807757365725F69640C636F6E74656E745F747970650A636F6E74656E745F696407726561645F6174080300010244359F176F00000018DC166B17010000006F0000005D110000000016000000000001000410F02A00000000000000010007000000FF00000099B8C2000004CEF02A000000000000000100080000000000000099B8C200010000F0FFFFFFFFFFFFFFFFFFFF010000000000000099BA3D7EFB270611C75FD1";

    [Fact]
    public async Task Twenty_thousand_mutated_real_events_end_in_no_exception_but_the_documented_ones_no_hang_and_bounded_memory()
    {
        var fuzzer = new BinlogFuzzer(await BinlogFuzzer.CaptureAsync(fixture.Server).DefaultTimeout(), seed: 1);

        var report = fuzzer.Run(20_000);

        Assert.True(report.FindingTotal == 0, report.ToString());
        Assert.Equal(20_000, report.Inputs);
        Assert.True(report.Outcomes.GetValueOrDefault("rows") > 0, report.ToString());
        Assert.True(report.Outcomes.GetValueOrDefault(nameof(BinlogFormatException)) > 0, report.ToString());
    }

    [Fact]
    public async Task The_capture_holds_rows_table_maps_and_compressed_events()
    {
        var fuzzer = new BinlogFuzzer(await BinlogFuzzer.CaptureAsync(fixture.Server).DefaultTimeout(), seed: 1);

        Assert.True(fuzzer.CountSeeds(t => RowsEvent.IsRowsEvent(t, out _, out _, out var compressed) && !compressed) >= 4);
        Assert.True(fuzzer.CountSeeds(t => RowsEvent.IsRowsEvent(t, out _, out _, out var compressed) && compressed) >= 2);
        Assert.True(fuzzer.CountSeeds(t => t == BinlogEventType.QueryCompressed) >= 1);
        Assert.True(fuzzer.CountSeeds(t => t == BinlogEventType.TableMap) >= 4);
    }

    [Theory]
    [InlineData(NoColumnPresentRows)]
    public void A_reproducer_ends_in_a_format_exception_not_a_hang(string hex)
    {
        var input = BinlogCase.FromReproducer(Convert.FromHexString(hex));

        var report = InProcessFuzzLoop.Run(new FuzzReport("reproducer", 0, 1), 1, () => input, BinlogFuzzer.Execute, BinlogFuzzer.Documented, c => c.ToReproducer(), BinlogFuzzer.AllocationBound);

        Assert.True(report.FindingTotal == 0, report.ToString());
        Assert.Equal(1, report.Outcomes.GetValueOrDefault(nameof(BinlogFormatException)));
    }
}
