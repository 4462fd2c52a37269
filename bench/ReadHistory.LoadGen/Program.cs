using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using ReadHistory.LoadGen;
using ReadHistory.LoadGen.Measure;
using ReadHistory.LoadGen.Model;
using ReadHistory.LoadGen.Preload;
using ReadHistory.LoadGen.Reporting;
using ReadHistory.LoadGen.Running;
using ReadHistory.LoadGen.Targets;

// Calls complete on pool threads; on 2 cores the pool's slow ramp-up would show as seconds of latency in the first
// measured second, so start with enough threads for the in-flight caps.
ThreadPool.SetMinThreads(128, 128);
var o = new LoadGenOptions();
var root = new RootCommand("readhistory-loadgen: end-to-end load with ground truth against the service and the peers a user would pick instead.");

var model = new Command("model", "Print the workload model's figures (rows, history-size quantiles) for the given parameters");
o.AddWorkload(model);
model.SetAction(p =>
{
    var m = new WorkloadModel(o.BindWorkload(p));
    var sizes = Enumerable.Range(0, m.Options.Users).Select(m.HistorySize).Order().ToArray();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"users {m.Options.Users:N0}, rows {sizes.Sum(x => (long)x):N0}, mean {sizes.Average():F1}, p50 {sizes[sizes.Length / 2]}, p90 {sizes[(int)(sizes.Length * 0.9)]}, p99 {sizes[(int)(sizes.Length * 0.99)]}, max {sizes[^1]}; top-1 user share of calls {m.Popularity.Probability(0):P2}; filter bytes at 1 % {FilterBytes(sizes)}"));
});
root.Subcommands.Add(model);

var preload = new Command("preload", "Load the model's history straight into the shard tables (run `readhistory migrate` first)");
o.AddWorkload(preload);
o.AddTargets(preload);
preload.Options.Add(o.PreloadConnections);
preload.Options.Add(o.RowsPerInsert);
preload.Options.Add(o.NoTruncate);
preload.SetAction(async (p, ct) =>
{
    var loader = new DatabasePreloader(new WorkloadModel(o.BindWorkload(p)), o.BindTargets(p), p.GetValue(o.PreloadConnections), p.GetValue(o.RowsPerInsert), Console.Error);
    await loader.RunAsync(!p.GetValue(o.NoTruncate), ct);
});
root.Subcommands.Add(preload);

var targetOption = new Option<string>("--target") { Description = "service | service-direct | redis-bloom | redis-set | database", DefaultValueFactory = _ => "service" };
var run = new Command("run", "Run one target");
o.AddRun(run);
run.Options.Add(targetOption);
run.SetAction((p, ct) => RunTargetsAsync(p, [p.GetValue(targetOption)!], ct));
root.Subcommands.Add(run);

var targetsOption = new Option<string>("--targets") { Description = "Comma-separated targets, run one after another; ratios against the first", DefaultValueFactory = _ => "service,service-direct,database,redis-set,redis-bloom" };
var compare = new Command("compare", "Run several targets with the same seed and workload and print ratios");
o.AddRun(compare);
compare.Options.Add(targetsOption);
compare.SetAction((p, ct) => RunTargetsAsync(p, p.GetValue(targetsOption)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), ct));
root.Subcommands.Add(compare);

return await root.Parse(args).InvokeAsync();

// The filters of every user at the shipped 1 % (the working set a T1 budget is a share of: run-e2e.sh's churn).
static long FilterBytes(int[] sizes) =>
    sizes.Sum(static rows => ReadHistory.Core.Filters.UserFilter.Create(rows, new ReadHistory.Core.Filters.BloomFilterOptions { TargetFalsePositiveRate = 0.01 }).MemoryBytes);

async Task<int> RunTargetsAsync(ParseResult p, string[] names, CancellationToken ct)
{
    var workload = o.BindWorkload(p);
    var runOptions = o.BindRun(p);
    var targetOptions = o.BindTargets(p);
    var world = new WorkloadModel(workload);
    var preloaded = p.GetValue(o.PreloadedRows) is var given && given >= 0 ? given : world.TotalRows();
    var watch = CpuWatch.Parse(p.GetValue(o.Watch) ?? string.Empty);
    var results = new List<TargetResult>();
    foreach (var name in names)
    {
        ILoadTarget target = name switch
        {
            "service" => new ServiceTarget(targetOptions, workload.ContentType, warm: p.GetValue(o.NoWarm) ? null : world),
            "service-direct" => new ServiceTarget(targetOptions, workload.ContentType, direct: true, warm: p.GetValue(o.NoWarm) ? null : world),
            "database" => new DatabaseTarget(targetOptions, workload.ContentType),
            "redis-set" => new RedisSetTarget(targetOptions, world),
            "redis-bloom" => new RedisBloomTarget(targetOptions, world),
            _ => throw new ArgumentException("unknown target '" + name + "': use service, service-direct, database, redis-set or redis-bloom"),
        };
        try
        {
            await using (target)
            {
                Console.Error.WriteLine($"== {name}: {runOptions.Scenario}, warm-up {runOptions.Warmup.TotalSeconds} s, measured {runOptions.Duration.TotalSeconds} s");
                // The node's counters (database reads, T2 loads) for the service; churn also weighs what T2 holds in the
                // service's Redis (--redis: the same server, database 0, as run-e2e.sh starts it).
                var service = name is "service" or "service-direct";
                var churn = service && runOptions.Scenario == "churn";
                var usedBefore = churn ? await SecondTierFootprint.UsedMemoryAsync(targetOptions.Redis) : 0;
                var result = await new LoadRunner(world, runOptions, Console.Error, TimeProvider.System, watch, service ? targetOptions.MetricsUrl : null).RunAsync(target, ct);
                results.Add(churn ? result with { SecondTier = await SecondTierFootprint.MeasureAsync(targetOptions.Redis, world, usedBefore) } : result);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // One peer failing (a Redis timeout, say) must not lose the figures of the others.
            Console.Error.WriteLine($"== {name} failed: {e}");
        }

        Console.Error.WriteLine($"== {name} done");
    }

    var machine = MachineInfo.Collect(args);
    var summary = MarkdownReport.Render(machine, workload, runOptions, preloaded, results);
    Console.Out.Write(summary);
    if (!p.GetValue(o.NoAppend))
    {
        ResultsFile.Append(p.GetValue(o.Results)!, summary);
        Console.Error.WriteLine("appended to " + p.GetValue(o.Results));
    }

    if (p.GetValue(o.Json) is { } json)
    {
        await File.WriteAllTextAsync(json, JsonSerializer.Serialize(new { machine, workload, run = runOptions, preloadedRows = preloaded, results }, new JsonSerializerOptions { WriteIndented = true }), ct);
    }

    return results.Any(r => r.Truth.FalseNegatives > 0) ? 3 : 0;
}
