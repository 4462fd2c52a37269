using System.Globalization;
using System.Text;
using ReadHistory.LoadGen.Model;
using ReadHistory.LoadGen.Running;

namespace ReadHistory.LoadGen.Reporting;

/// <summary>The Markdown summary of a run or a comparison, in the shape of bench/RESULTS.md.</summary>
internal static class MarkdownReport
{
    /// <summary>Renders <paramref name="results"/>; with more than one target, adds ratios against the first.</summary>
    public static string Render(MachineInfo machine, WorkloadOptions workload, RunOptions run, long preloadedRows, IReadOnlyList<TargetResult> results)
    {
        var s = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        s.AppendLine(c, $"### {run.Scenario}: {string.Join(" vs ", results.Select(r => r.Target))} ({machine.Date})");
        s.AppendLine();
        s.AppendLine(c, $"Machine: {machine.Cores} cores, {machine.Memory}, {machine.OperatingSystem}; shared with other work. Commit `{machine.Commit}`.");
        s.AppendLine(c, $"Command: `{machine.CommandLine}`");
        s.AppendLine(c, $"Workload: seed {workload.Seed}, {workload.Users:N0} users (Zipf s={workload.ZipfSkew}), history bounded Pareto [{workload.HistoryMin}, {workload.HistoryMax:N0}] alpha {workload.HistoryAlpha} + {workload.HeavyShare:P3} heavy users at the max, {preloadedRows:N0} rows preloaded; {workload.Candidates} candidates/check, {workload.ReadShare:P0} read; {workload.Sessions} sessions × {workload.SessionLength} calls per user.");
        var rates = run.Concurrency is { } k ? $"closed loop, {k} in flight" : $"open loop, {run.CheckRate:N0} checks/s offered";
        s.AppendLine(c, $"Load: {rates}; ingest {(run.HasWrites ? run.IngestRate.ToString("N0", c) + " rows/s in calls of " + run.IngestBatch : "none")}; warm-up {run.Warmup.TotalSeconds:F0} s, measured {run.Duration.TotalSeconds:F0} s; latency from the intended start; coherence window {run.CoherenceWindow.TotalSeconds:F1} s.");
        s.AppendLine();
        s.AppendLine("| target | stream | offered/s | achieved/s | items/s | P50 ms | P90 ms | P99 ms | P999 ms | max ms | not issued | errors |");
        s.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (var r in results)
        {
            foreach (var st in r.Streams)
            {
                var errors = st.Errors.Count == 0 ? "0" : string.Join(", ", st.Errors.Select(e => e.Key + " " + e.Value.ToString(c)));
                if (st.Refused > 0)
                {
                    errors += "; refused for load " + st.Refused.ToString("N0", c) + " (retried after retry-after-ms; P99 from the admitted attempt's start "
                        + st.AdmittedP99Ms.ToString("F2", c) + " ms)";
                }

                s.AppendLine(c, $"| {r.Target} | {st.Name} | {st.OfferedPerSecond:N0} | {st.AchievedPerSecond:N0} | {st.ItemsPerSecond:N0} | {st.P50Ms:F2} | {st.P90Ms:F2} | {st.P99Ms:F2} | {st.P999Ms:F2} | {st.MaxMs:F1} | {st.NotIssued:N0} | {errors} |");
            }
        }

        s.AppendLine();
        s.AppendLine("| target | false negatives (same session / preload) | late other-session reads (> window) | candidates judged read | false-positive rate | rows acknowledged | bytes per stored read |");
        s.AppendLine("|---|---:|---:|---:|---:|---:|---|");
        foreach (var r in results)
        {
            var t = r.Truth;
            var memory = r.Memory is { } m ? $"{m.BytesPerRow:F1} ({m.Bytes / 1048576.0:F1} MiB / {m.Rows:N0} rows; {m.Source})" : "n/a";
            var verified = r.Memory is { VerifiedFalsePositiveRate: { } v } vm ? string.Create(c, $"; the node's verifier: {v:P3} over {vm.VerifiedSamples:N0}") : string.Empty;
            s.AppendLine(c, $"| {r.Target} | {t.FalseNegatives:N0} | {t.FalseNegativesOtherSession:N0} of {t.ReadOtherSessionChecked:N0} | {t.ReadChecked:N0} | {t.FalsePositiveRate:P3} ({t.FalsePositives:N0} of {t.UnreadChecked:N0}){verified} | {t.RowsAcknowledged:N0} | {memory} |");
        }

        if (results.Any(static r => r.NodeRates is not null))
        {
            s.AppendLine();
            s.AppendLine("The cache node over the measured period (its /metrics): database rows read by rebuilds and point queries per second, lookups hit ratio, T2 loads; T2 after the run (its Redis): snapshot keys, snapshot bytes (STRLEN) per preloaded row of their users, and Redis used_memory growth since before the target's warm-up per the same rows (streams included):");
            s.AppendLine();
            s.AppendLine("| target | rebuild rows read/s | point queries/s | lookup hit ratio | T2 loads hit/s | T2 loads miss/s | T2 loads stale+error/s | T2 keys | snapshot bytes / row | used_memory growth / row |");
            s.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var r in results.Where(static r => r.NodeRates is not null))
            {
                var n = r.NodeRates!;
                double Rate(string key) => n.GetValueOrDefault(key);
                var lookups = Rate("readhistory_cache_lookups_total:hit") + Rate("readhistory_cache_lookups_total:miss");
                var hitRatio = lookups > 0 ? (Rate("readhistory_cache_lookups_total:hit") / lookups).ToString("P2", c) : "n/a";
                var t2 = r.SecondTier is { } f
                    ? string.Create(c, $"{f.Keys:N0} | {f.SnapshotBytesPerRow:F2} ({f.SnapshotBytes / 1048576.0:F1} MiB / {f.Rows:N0} rows) | {f.UsedMemoryPerRow:F2}")
                    : "n/a | n/a | n/a";
                s.AppendLine(c, $"| {r.Target} | {Rate("readhistory_cache_rebuild_rows_total"):N0} | {Rate("readhistory_cache_point_queries_total"):N1} | {hitRatio} | {Rate("readhistory_cache_t2_loads_total:hit"):N1} | {Rate("readhistory_cache_t2_loads_total:miss"):N1} | {Rate("readhistory_cache_t2_loads_total:stale") + Rate("readhistory_cache_t2_loads_total:error"):N1} | {t2} |");
            }
        }

        var names = results.SelectMany(static r => r.Cpu).Select(static f => f.Name).Distinct(StringComparer.Ordinal).ToArray();
        if (names.Length > 0)
        {
            s.AppendLine();
            s.AppendLine("CPU over the measured period in cores (CPU seconds per second; the machine has " + machine.Cores.ToString(c) +
                ") and, in brackets, CPU µs per call completed (checks and writes together), with the 1-minute load average at its start and end:");
            s.AppendLine();
            s.AppendLine("| target | load average | " + string.Join(" | ", names) + " |");
            s.AppendLine("|---|---|" + string.Concat(Enumerable.Repeat("---:|", names.Length)));
            foreach (var r in results)
            {
                var calls = r.Streams.Sum(static st => st.Completed);
                var cells = names.Select(n => r.Cpu.FirstOrDefault(f => f.Name == n) is { } f
                    ? f.Cores.ToString("F2", c) + (calls > 0 ? " (" + (f.Cores * r.MeasuredSeconds * 1e6 / calls).ToString("F0", c) + ")" : string.Empty)
                    : "–");
                s.AppendLine(c, $"| {r.Target} | {r.LoadAverageStart:F1} → {r.LoadAverageEnd:F1} | {string.Join(" | ", cells)} |");
            }
        }

        if (results.Count > 1)
        {
            s.AppendLine();
            var first = results[0];
            s.AppendLine(c, $"Ratios, {first.Target} against each peer (same seed, same offered load, same run):");
            s.AppendLine();
            var f = first.Streams[0];
            s.AppendLine(c, $"| peer | {f.Name} throughput, first / peer | {f.Name} P99, peer / first | memory per read, peer / first |");
            s.AppendLine("|---|---:|---:|---:|");
            foreach (var r in results.Skip(1))
            {
                var p = r.Streams[0];
                var throughput = p.AchievedPerSecond == 0 ? "∞" : (f.AchievedPerSecond / p.AchievedPerSecond).ToString("F2", c);
                var equal = Math.Abs(f.AchievedPerSecond - p.AchievedPerSecond) <= 0.05 * Math.Max(f.AchievedPerSecond, 1);
                var p99 = f.P99Ms == 0 ? "n/a" : (p.P99Ms / f.P99Ms).ToString("F2", c) + (equal ? string.Empty : " (throughputs differ)");
                var memory = first.Memory is { BytesPerRow: > 0 } fm && r.Memory is { } pm ? (pm.BytesPerRow / fm.BytesPerRow).ToString("F2", c) : "n/a";
                s.AppendLine(c, $"| {r.Target} | {throughput} | {p99} | {memory} |");
            }
        }

        s.AppendLine();
        return s.ToString();
    }
}
