using System.Globalization;
using ReadHistory.LoadGen.Measure;
using ReadHistory.LoadGen.Model;
using ReadHistory.LoadGen.Scheduling;
using ReadHistory.LoadGen.Targets;
using ReadHistory.LoadGen.Truth;

namespace ReadHistory.LoadGen.Running;

/// <summary>
/// Drives one target through warm-up and the measured period, prints a progress line a second, returns the figures;
/// the CPU of the generator and of <paramref name="watch"/> (name, pid) is sampled over the measured period, and so are
/// the counters of the cache node at <paramref name="nodeMetrics"/> (its /metrics) when given.
/// </summary>
internal sealed class LoadRunner(WorkloadModel model, RunOptions options, TextWriter progress, TimeProvider timeProvider, IReadOnlyList<(string Name, int Pid)>? watch = null, Uri? nodeMetrics = null)
{
    /// <summary>Runs <paramref name="target"/> (after its <see cref="ILoadTarget.PrepareAsync"/>).</summary>
    public async Task<TargetResult> RunAsync(ILoadTarget target, CancellationToken cancellationToken)
    {
        await target.PrepareAsync(progress, cancellationToken).ConfigureAwait(false);
        GC.Collect(); // the load's garbage is not the run's: every target starts from a clean heap
        GC.WaitForPendingFinalizers();
        // Each run writes ids of its own (a random base far above any history), so repeated runs against the same
        // database ingest new rows, not duplicates.
        var truth = new GroundTruth(model, options.CoherenceWindow, timeProvider, (long)Random.Shared.Next(1, int.MaxValue) << 16);
        var sessions = new SessionTable(model);
        var tally = new TruthTally();
        var push = options.Scenario == "push";
        var checkStats = new StreamStats(push ? "batch-check" : "check", timeProvider);
        var writeStats = new StreamStats("write", timeProvider);
        var checks = new CheckStream(target, truth, sessions, checkStats, tally, push ? options.BatchUsers : 1);
        var writes = new WriteStream(target, truth, sessions, writeStats, options.IngestBatch);

        var total = options.Warmup + options.Duration;
        var frequency = timeProvider.TimestampFrequency;
        var start = timeProvider.GetTimestamp();
        var from = start + (long)(options.Warmup.TotalSeconds * frequency);
        var to = from + (long)(options.Duration.TotalSeconds * frequency);
        checkStats.SetWindow(from, to);
        writeStats.SetWindow(from, to);

        var drain = TimeSpan.FromSeconds(10);
        var running = new List<Task>();
        OpenLoopScheduler? checkScheduler = null;
        OpenLoopScheduler? writeScheduler = null;
        var mode = options.Concurrency is { } c ? "closed, concurrency " + c.ToString(CultureInfo.InvariantCulture) : "open";
        if (options.HasChecks)
        {
            if (options.Concurrency is { } concurrency)
            {
                running.Add(new ClosedLoopDriver(timeProvider, concurrency).RunAsync(checks, total, cancellationToken));
            }
            else
            {
                checkScheduler = new OpenLoopScheduler(timeProvider, options.CheckRate, options.MaxInFlight);
                running.Add(checkScheduler.RunAsync(checks, total, drain, cancellationToken));
            }
        }

        if (options.HasWrites)
        {
            if (!options.HasChecks && options.Concurrency is { } concurrency)
            {
                running.Add(new ClosedLoopDriver(timeProvider, concurrency).RunAsync(writes, total, cancellationToken));
            }
            else
            {
                writeScheduler = new OpenLoopScheduler(timeProvider, options.IngestRate / options.IngestBatch, options.MaxInFlight);
                running.Add(writeScheduler.RunAsync(writes, total, drain, cancellationToken));
            }
        }

        var cpu = new CpuWatch(watch ?? []);
        var sampled = SampleMeasuredPeriodAsync(cpu, from, to, cancellationToken);
        var all = Task.WhenAll(running);
        while (!all.IsCompleted)
        {
            await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(1), timeProvider, CancellationToken.None)).ConfigureAwait(false);
            var elapsed = (timeProvider.GetTimestamp() - start) / (double)frequency;
            progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"[{target.Name}] {elapsed,5:F0}s {(elapsed < options.Warmup.TotalSeconds ? "warm-up " : "measured")} " +
                $"{Line(checkStats, checkScheduler)} | {Line(writeStats, writeScheduler)} | FN {tally.FalseNegatives} FP {tally.FalsePositiveRate:P2}"));
        }

        await all.ConfigureAwait(false);
        var (cpuFigures, loadStart, loadEnd, nodeRates) = await sampled.ConfigureAwait(false);
        long rowsTouched = 0;
        foreach (var user in checks.UsersTouched.Keys)
        {
            rowsTouched += model.HistorySize(model.RankOf(user));
        }

        var memory = await target.MeasureMemoryAsync(rowsTouched, cancellationToken).ConfigureAwait(false);
        var streams = new List<StreamResult>();
        if (options.HasChecks)
        {
            streams.Add(checkStats.Summarise(options.Duration.TotalSeconds));
        }

        if (options.HasWrites)
        {
            streams.Add(writeStats.Summarise(options.Duration.TotalSeconds));
        }

        var truthResult = new TruthResult(tally.ReadChecked, tally.FalseNegatives, tally.ReadOtherChecked, tally.FalseNegativesOtherSession,
            tally.Unsure, tally.UnreadChecked, tally.FalsePositives, tally.FalsePositiveRate, truth.Acknowledged);
        return new TargetResult(target.Name, options.Scenario, mode, options.Warmup.TotalSeconds, options.Duration.TotalSeconds, streams, truthResult, memory, cpuFigures, loadStart, loadEnd, nodeRates);
    }

    private async Task<(IReadOnlyList<CpuFigure> Cpu, double LoadStart, double LoadEnd, IReadOnlyDictionary<string, double>? NodeRates)> SampleMeasuredPeriodAsync(CpuWatch cpu, long from, long to, CancellationToken cancellationToken)
    {
        await DelayUntilAsync(from, cancellationToken).ConfigureAwait(false);
        var loadStart = CpuWatch.LoadAverage();
        cpu.Start();
        var countersFrom = timeProvider.GetTimestamp();
        var before = nodeMetrics is null ? null : await NodeCounters.ScrapeAsync(nodeMetrics, cancellationToken).ConfigureAwait(false);
        await DelayUntilAsync(to, cancellationToken).ConfigureAwait(false);
        var figures = cpu.Stop();
        var after = before is null ? null : await NodeCounters.ScrapeAsync(nodeMetrics!, cancellationToken).ConfigureAwait(false);
        var seconds = (timeProvider.GetTimestamp() - countersFrom) / (double)timeProvider.TimestampFrequency;
        return (figures, loadStart, CpuWatch.LoadAverage(), before is null || after is null ? null : NodeCounters.Rates(before, after, seconds));
    }

    private async Task DelayUntilAsync(long timestamp, CancellationToken cancellationToken)
    {
        var wait = timestamp - timeProvider.GetTimestamp();
        if (wait > 0)
        {
            await Task.Delay(TimeSpan.FromSeconds((double)wait / timeProvider.TimestampFrequency), timeProvider, cancellationToken).ConfigureAwait(false);
        }
    }

    private static string Line(StreamStats stats, OpenLoopScheduler? scheduler)
    {
        var done = stats.TakeIntervalCompleted();
        var p99 = StreamStats.Milliseconds(stats.TakeInterval(), 99);
        return string.Create(CultureInfo.InvariantCulture,
            $"{stats.Name} {done}/s p99 {p99:F1}ms inflight {scheduler?.InFlight ?? 0} not-issued {scheduler?.Dropped ?? 0} err {stats.ErrorCount} refused {stats.Refused}");
    }
}
