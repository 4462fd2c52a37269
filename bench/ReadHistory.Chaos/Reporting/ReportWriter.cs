using System.Globalization;
using System.Text;
using System.Text.Json;

namespace ReadHistory.Chaos;

/// <summary>The report as a text table (stdout), markdown (for bench/RESULTS.md "Chaos") and JSON.</summary>
internal static class ReportWriter
{
    private static readonly string[] Headers =
    [
        "phase", "calls", "failed after fault", "write failures", "check failures", "acked rows",
        "FN ≤1s same", "FN ≤1s other", "FN >1s same", "FN >1s other", "oldest FN s", "FP rate", "last failure s", "ready s",
    ];

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <summary>The per-phase table, aligned for a terminal, then the final verification and the verdicts.</summary>
    public static string Text(ChaosReport report)
    {
        var rows = Rows(report).Prepend(Headers).ToList();
        var widths = Enumerable.Range(0, Headers.Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        var text = new StringBuilder();
        foreach (var row in rows)
        {
            text.AppendLine(string.Join("  ", row.Select((cell, c) => c == 0 ? cell.PadRight(widths[c]) : cell.PadLeft(widths[c]))));
        }

        AppendSummary(text, report, markdown: false);
        return text.ToString();
    }

    /// <summary>The same as markdown.</summary>
    public static string Markdown(ChaosReport report)
    {
        var text = new StringBuilder();
        text.AppendLine(F($"### Chaos, {(report.Options.Short ? "short" : "full")} run {report.RunId} ({report.StartedAt:yyyy-MM-dd HH:mm} UTC)"));
        text.AppendLine();
        text.AppendLine(F($"{Environment.ProcessorCount} cores; {report.Options.WriteRate:0} MarkRead/s + {report.Options.CheckRate:0} Check/s through 2 proxies; ")
            + F($"{report.Options.SecondsPerPhase} s per phase; outage {report.Options.Outage.TotalSeconds:0} s, freeze {report.Options.Freeze.TotalSeconds:0} s, partition {report.Options.Partition.TotalSeconds:0} s; ")
            + F($"call deadline {report.Options.CallDeadline.TotalMilliseconds:0} ms; run took {report.TotalSeconds:0} s."));
        text.AppendLine();
        text.AppendLine("| " + string.Join(" | ", Headers) + " |");
        text.AppendLine("|" + string.Concat(Headers.Select((_, c) => c == 0 ? "---|" : "---:|")));
        foreach (var row in Rows(report))
        {
            text.AppendLine("| " + string.Join(" | ", row) + " |");
        }

        text.AppendLine();
        AppendSummary(text, report, markdown: true);
        return text.ToString();
    }

    /// <summary>The report as JSON.</summary>
    public static string ToJson(ChaosReport report) => JsonSerializer.Serialize(new
    {
        report.RunId,
        report.StartedAt,
        variant = report.Options.Short ? "short" : "full",
        options = new
        {
            report.Options.SecondsPerPhase,
            report.Options.WriteRate,
            report.Options.CheckRate,
            report.Options.Users,
            report.Options.SessionsPerUser,
            callDeadlineMs = report.Options.CallDeadline.TotalMilliseconds,
            outageSeconds = report.Options.Outage.TotalSeconds,
            freezeSeconds = report.Options.Freeze.TotalSeconds,
            partitionSeconds = report.Options.Partition.TotalSeconds,
            report.Options.Seed,
        },
        cores = Environment.ProcessorCount,
        report.TotalSeconds,
        report.Passed,
        phases = report.Phases.Select(static p => new
        {
            p.Name,
            p.Description,
            p.LengthSeconds,
            baseline = Window(p.Baseline),
            fault = Window(p.Fault),
            total = Window(p.Total()),
            p.MaxFalseNegativeAgeSeconds,
            lastFailureSecondsAfterFault = p.LastFailureSeconds,
            lastFalseNegativeSecondsAfterFault = p.LastFalseNegativeSeconds,
            readySecondsAfterFault = p.ReadyAfterSeconds,
            p.Hung,
            p.Notes,
        }),
        skipped = report.Skipped.Select(static s => new { phase = s.Phase, reason = s.Reason }),
        final = report.Final,
        report.ShedCalls,
        assertions = report.Assertions,
        report.Errors,
        report.LogFolder,
    }, Json);

    private static object Window(WindowCounters w) => new
    {
        calls = w.Calls,
        w.Writes,
        w.Checks,
        w.AckedRows,
        w.UnknownRows,
        w.WriteFailures,
        w.CheckFailures,
        failures = w.Failures,
        w.AckedChecked,
        falseNegatives = new { recentSameSession = w.FnRecentSame, recentOtherSession = w.FnRecentOther, olderSameSession = w.FnOlderSame, olderOtherSession = w.FnOlderOther },
        w.NeverWrittenChecked,
        w.FalsePositives,
        falsePositiveRate = w.NeverWrittenChecked == 0 ? 0 : (double)w.FalsePositives / w.NeverWrittenChecked,
    };

    private static IEnumerable<string[]> Rows(ChaosReport report)
    {
        foreach (var p in report.Phases)
        {
            var t = p.Total();
            yield return
            [
                p.Name + (p.Hung ? " (HUNG)" : string.Empty),
                F($"{t.Calls}"),
                p.Kind is null ? "-" : F($"{p.Fault.Failures} ({(p.Fault.Calls == 0 ? 0 : (double)p.Fault.Failures / p.Fault.Calls):P2})"),
                Codes(t.WriteFailures),
                Codes(t.CheckFailures),
                F($"{t.AckedRows}"),
                F($"{t.FnRecentSame}"),
                F($"{t.FnRecentOther}"),
                F($"{t.FnOlderSame}"),
                F($"{t.FnOlderOther}"),
                t.FalseNegatives == 0 ? "-" : F($"{p.MaxFalseNegativeAgeSeconds:0.0}"),
                F($"{(t.NeverWrittenChecked == 0 ? 0 : (double)t.FalsePositives / t.NeverWrittenChecked):P2}"),
                p.Kind is null || p.LastFailureSeconds == 0 ? "-" : F($"{p.LastFailureSeconds:0.0}"),
                p.ReadyAfterSeconds is { } ready ? F($"{ready:0.0}") : "-",
            ];
        }

        foreach (var (phase, reason) in report.Skipped)
        {
            yield return [phase + " (skipped: " + reason + ")", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-"];
        }
    }

    private static void AppendSummary(StringBuilder text, ChaosReport report, bool markdown)
    {
        var f = report.Final;
        var bullet = markdown ? "- " : "  ";
        text.AppendLine(f.Ran
            ? F($"final verification: {f.AckedReads} acknowledged reads ({f.UnknownRows} rows of failed writes excluded); through the proxies {f.FalseNegatives} false negatives, {f.Unverified} not verified; database: {f.DatabaseRows} rows, {f.MissingRows} acknowledged rows missing ({f.Seconds:0.0} s)")
            : "final verification: not run");
        if (report.ShedCalls > 0)
        {
            text.AppendLine(F($"client: {report.ShedCalls} calls not made (400 already in flight)"));
        }

        foreach (var phase in report.Phases.Where(static p => p.Notes.Count > 0))
        {
            text.AppendLine(bullet + phase.Name + ": " + string.Join("; ", phase.Notes));
        }

        if (markdown)
        {
            text.AppendLine();
        }

        foreach (var failure in report.Failures)
        {
            text.AppendLine(bullet + failure);
        }

        text.AppendLine(report.Passed
            ? F($"PASSED: all {report.Assertions.Count} assertions held")
            : F($"FAILED: {report.Assertions.Count(static a => !a.Passed)} of {report.Assertions.Count} assertions failed{(report.Errors.Count > 0 ? ", and the run stopped on an error" : string.Empty)}"));
    }

    private static string Codes(SortedDictionary<string, long> failures) =>
        failures.Count == 0 ? "0" : string.Join(" ", failures.Select(static kv => kv.Key + " " + kv.Value.ToString(CultureInfo.InvariantCulture)));

    private static string F(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
