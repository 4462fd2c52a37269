using System.CommandLine;
using System.Runtime.InteropServices;
using ReadHistory.Chaos;

// Completions arrive on pool threads; start with enough of them for the client's in-flight cap on 2 cores.
ThreadPool.SetMinThreads(64, 64);

var secondsPerPhase = new Option<int?>("--seconds-per-phase") { Description = "Seconds per phase window (full: 35, short: 13)" };
var shortRun = new Option<bool>("--short") { Description = "The short variant ./test.sh runs (every phase, shorter windows; about 2.5 minutes)" };
var writeRate = new Option<double?>("--write-rate") { Description = "MarkRead calls per second (150)" };
var checkRate = new Option<double?>("--check-rate") { Description = "Check calls per second (150)" };
var phases = new Option<string?>("--phases") { Description = "Comma-separated phases to run (default all): " + string.Join(", ", Enum.GetValues<PhaseKind>().Select(PhaseNames.Name)) };
var noNetns = new Option<bool>("--no-netns") { Description = "Do not create network namespaces (the partition phase is then skipped, and reported so)" };
var server = new Option<string?>("--server") { Description = "readhistory.dll to run (default: src/ReadHistory.Server/bin/<this configuration>/net10.0/readhistory.dll)" };
var results = new Option<string?>("--results") { Description = "Path prefix of the JSON and markdown results (default bench/chaos/results/chaos-<run id>)" };
var seed = new Option<int?>("--seed") { Description = "Seed of the traffic's random choices (17)" };

var root = new RootCommand("readhistory-chaos: the multi-process topology on private servers, one fault per phase under steady traffic, judged by issue 17's \"Done when\". Exit 0 = every assertion held, 1 = an assertion failed, 2 = bad arguments.")
{
    secondsPerPhase, shortRun, writeRate, checkRate, phases, noNetns, server, results, seed,
};

root.SetAction(async (parse, _) =>
{
    var defaults = parse.GetValue(shortRun) ? ChaosOptions.ForShort() : new ChaosOptions();
    ChaosOptions options;
    try
    {
        options = defaults with
        {
            SecondsPerPhase = parse.GetValue(secondsPerPhase) ?? defaults.SecondsPerPhase,
            WriteRate = parse.GetValue(writeRate) ?? defaults.WriteRate,
            CheckRate = parse.GetValue(checkRate) ?? defaults.CheckRate,
            Phases = parse.GetValue(phases) is { } list ? [.. list.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(PhaseNames.Parse)] : defaults.Phases,
            UseNamespaces = !parse.GetValue(noNetns),
            ServerDll = parse.GetValue(server),
            ResultsPrefix = parse.GetValue(results),
            Seed = parse.GetValue(seed) ?? defaults.Seed,
        };
    }
    catch (ArgumentException e)
    {
        await Console.Error.WriteLineAsync(e.Message);
        return 2;
    }

    // Ctrl-C and SIGTERM cancel the run; it then stops everything it started (processes by pid, the namespace by name).
    using var stop = new CancellationTokenSource();
    using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Cancel);
    using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Cancel);
    var report = await ChaosSuite.RunAsync(options, Console.Out, stop.Token);
    var prefix = ResultsFiles.Write(report);
    Console.WriteLine();
    Console.WriteLine(ReportWriter.Text(report));
    Console.WriteLine("results: " + prefix + ".json, " + prefix + ".md; process logs: " + report.LogFolder);
    return report.Passed ? 0 : 1;

    void Cancel(PosixSignalContext context)
    {
        context.Cancel = true;
        stop.Cancel();
    }
});

return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
