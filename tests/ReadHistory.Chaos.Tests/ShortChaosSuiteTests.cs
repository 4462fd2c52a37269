using ReadHistory.Chaos;
using Xunit;
using Xunit.Abstractions;

namespace ReadHistory.Chaos.Tests;

/// <summary>
/// The chaos suite's short variant against this build of the server (Debug under ./test.sh): every phase, the final
/// verification, and every assertion of issue 17's "Done when" that the suite judges. It starts and stops everything
/// it needs (private MariaDB and Redis, the processes, a network namespace when running as root) and is bounded by the
/// suite's hard cap.
/// </summary>
public sealed class ShortChaosSuiteTests(ITestOutputHelper output)
{
    [Fact]
    public async Task The_short_chaos_suite_meets_every_assertion()
    {
        using var log = new StringWriter();
        var options = ChaosOptions.ForShort() with
        {
            ResultsPrefix = Path.Combine(Path.GetTempPath(), "readhistory-tests", "chaos-short-" + Guid.NewGuid().ToString("N")[..8]),
        };

        var report = await ChaosSuite.RunAsync(options, log, CancellationToken.None).WaitAsync(options.HardCap + TimeSpan.FromSeconds(60));
        ResultsFiles.Write(report);
        var table = ReportWriter.Text(report);
        output.WriteLine(log.ToString());
        output.WriteLine(table);

        Assert.True(report.Passed, "the short chaos suite failed:\n" + string.Join("\n", report.Failures) + "\n\n" + table
            + "\nresults: " + report.ResultsPrefix + ".json / .md; process logs: " + report.LogFolder);
    }
}
