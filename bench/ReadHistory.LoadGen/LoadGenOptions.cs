using System.CommandLine;
using ReadHistory.LoadGen.Model;
using ReadHistory.LoadGen.Running;
using ReadHistory.LoadGen.Targets;

namespace ReadHistory.LoadGen;

/// <summary>Every command-line option, with feed-like defaults, and their binding to the option records.</summary>
internal sealed class LoadGenOptions
{
    private static readonly WorkloadOptions W = new();
    private static readonly RunOptions R = new();
    private static readonly TargetOptions T = new();

    public Option<ulong> Seed { get; } = new("--seed") { Description = "Seed of users, histories and the call stream", DefaultValueFactory = _ => W.Seed };
    public Option<int> Users { get; } = new("--users") { Description = "Users U", DefaultValueFactory = _ => W.Users };
    public Option<double> Zipf { get; } = new("--zipf") { Description = "Zipf skew s of user popularity", DefaultValueFactory = _ => W.ZipfSkew };
    public Option<int> HistoryMin { get; } = new("--history-min") { Description = "Smallest history (bounded Pareto lower bound)", DefaultValueFactory = _ => W.HistoryMin };
    public Option<int> HistoryMax { get; } = new("--history-max") { Description = "Largest history (rows)", DefaultValueFactory = _ => W.HistoryMax };
    public Option<double> HistoryAlpha { get; } = new("--history-alpha") { Description = "Pareto shape of history sizes", DefaultValueFactory = _ => W.HistoryAlpha };
    public Option<double> HeavyShare { get; } = new("--heavy-share") { Description = "Share of users with exactly --history-max rows", DefaultValueFactory = _ => W.HeavyShare };
    public Option<int> Candidates { get; } = new("--candidates") { Description = "Candidates per check", DefaultValueFactory = _ => W.Candidates };
    public Option<double> ReadShare { get; } = new("--read-share") { Description = "Share of candidates already read", DefaultValueFactory = _ => W.ReadShare };
    public Option<int> Sessions { get; } = new("--sessions") { Description = "Simulated clients (sticky session ids)", DefaultValueFactory = _ => W.Sessions };
    public Option<int> SessionLength { get; } = new("--session-length") { Description = "Calls a client makes for one user before the next", DefaultValueFactory = _ => W.SessionLength };

    public Option<string> Scenario { get; } = new("--scenario") { Description = "feed | push | ingest | rbase-peak | churn (feed, plus the node's database reads and T2 from --metrics and --redis)", DefaultValueFactory = _ => R.Scenario };
    public Option<double> Rate { get; } = new("--rate") { Description = "Offered check calls/s (push: BatchCheck calls/s); open loop", DefaultValueFactory = _ => R.CheckRate };
    public Option<int?> Concurrency { get; } = new("--concurrency") { Description = "Closed loop with this many calls in flight instead of an offered rate" };
    public Option<double> IngestRate { get; } = new("--ingest-rate") { Description = "Offered ingest rows/s", DefaultValueFactory = _ => R.IngestRate };
    public Option<int> IngestBatch { get; } = new("--ingest-batch") { Description = "Rows per MarkRead", DefaultValueFactory = _ => R.IngestBatch };
    public Option<int> BatchUsers { get; } = new("--batch-users") { Description = "Users per BatchCheck (push)", DefaultValueFactory = _ => R.BatchUsers };
    public Option<int> MaxInFlight { get; } = new("--max-in-flight") { Description = "In-flight cap per stream (open loop); calls due above it are counted as not issued", DefaultValueFactory = _ => R.MaxInFlight };
    public Option<double> Warmup { get; } = new("--warmup") { Description = "Warm-up seconds", DefaultValueFactory = _ => R.Warmup.TotalSeconds };
    public Option<double> Duration { get; } = new("--duration") { Description = "Measured seconds", DefaultValueFactory = _ => R.Duration.TotalSeconds };
    public Option<double> CoherenceWindow { get; } = new("--coherence-window") { Description = "Seconds after which another session must see an acknowledged write", DefaultValueFactory = _ => R.CoherenceWindow.TotalSeconds };

    public Option<string> Endpoint { get; } = new("--endpoint") { Description = "gRPC endpoint of the service", DefaultValueFactory = _ => T.Endpoint.ToString() };
    public Option<string> NodeEndpoint { get; } = new("--node-endpoint") { Description = "gRPC endpoint of one cache node's internal API (service-direct; memory from CacheNode.Stats); empty: --endpoint", DefaultValueFactory = _ => string.Empty };
    public Option<string> Token { get; } = new("--token") { Description = "API key for the public API, sent as 'authorization: Bearer <key>' (default: $READHISTORY_TOKEN; none: anonymous)", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("READHISTORY_TOKEN") ?? string.Empty };
    public Option<string> Metrics { get; } = new("--metrics") { Description = "Service /metrics URL (empty: none)", DefaultValueFactory = _ => T.MetricsUrl?.ToString() ?? string.Empty };
    public Option<double> DeadlineMs { get; } = new("--deadline-ms") { Description = "Client deadline per call", DefaultValueFactory = _ => T.Deadline.TotalMilliseconds };
    public Option<int> Channels { get; } = new("--channels") { Description = "gRPC channels to the service", DefaultValueFactory = _ => T.Channels };
    public Option<string> Database { get; } = new("--db") { Description = "Database connection string (no database name)", DefaultValueFactory = _ => T.Database };
    public Option<string> DatabasePrefix { get; } = new("--db-prefix") { Description = "History database prefix", DefaultValueFactory = _ => T.DatabasePrefix };
    public Option<int> Databases { get; } = new("--db-databases") { Description = "Databases D", DefaultValueFactory = _ => T.Databases };
    public Option<int> Tables { get; } = new("--db-tables") { Description = "Tables per database T", DefaultValueFactory = _ => T.TablesPerDatabase };
    public Option<string> Redis { get; } = new("--redis") { Description = "Redis host:port for the Redis peers", DefaultValueFactory = _ => T.Redis };
    public Option<string> RedisSetProbe { get; } = new("--redis-set-probe") { Description = "script (one SMISMEMBER) | pipeline (SISMEMBER each)", DefaultValueFactory = _ => T.RedisSetProbe };
    public Option<double> BloomRate { get; } = new("--bloom-fpr") { Description = "Target false-positive rate of redis-bloom", DefaultValueFactory = _ => T.BloomFalsePositiveRate };

    public Option<bool> NoWarm { get; } = new("--no-warm") { Description = "Do not have every user cached before a service run (the run then starts cold and memory is an estimate)" };
    public Option<string> Watch { get; } = new("--watch") { Description = "Processes whose CPU is reported over each measured period: name=pid,name=pid (the generator itself always)", DefaultValueFactory = _ => string.Empty };
    public Option<string> Results { get; } = new("--results") { Description = "Markdown results file to append to", DefaultValueFactory = _ => "bench/RESULTS.md" };
    public Option<bool> NoAppend { get; } = new("--no-append") { Description = "Print the summary only; do not append it to --results" };
    public Option<string?> Json { get; } = new("--json") { Description = "Write the machine-readable results here" };
    public Option<long> PreloadedRows { get; } = new("--preloaded-rows") { Description = "Rows preloaded (for the report; default: the model's total)", DefaultValueFactory = _ => -1 };

    public Option<int> PreloadConnections { get; } = new("--connections") { Description = "Preload connections", DefaultValueFactory = _ => 4 };
    public Option<int> RowsPerInsert { get; } = new("--rows-per-insert") { Description = "Rows per multi-row INSERT", DefaultValueFactory = _ => 2000 };
    public Option<bool> NoTruncate { get; } = new("--no-truncate") { Description = "Keep existing rows" };

    /// <summary>Adds the workload options to <paramref name="command"/>.</summary>
    public void AddWorkload(Command command)
    {
        foreach (var o in new Option[] { Seed, Users, Zipf, HistoryMin, HistoryMax, HistoryAlpha, HeavyShare, Candidates, ReadShare, Sessions, SessionLength })
        {
            command.Options.Add(o);
        }
    }

    /// <summary>Adds the load, target and report options to <paramref name="command"/>.</summary>
    public void AddRun(Command command)
    {
        AddWorkload(command);
        foreach (var o in new Option[] { Scenario, Rate, Concurrency, IngestRate, IngestBatch, BatchUsers, MaxInFlight, Warmup, Duration, CoherenceWindow })
        {
            command.Options.Add(o);
        }

        AddTargets(command);
        foreach (var o in new Option[] { NoWarm, Watch, Results, NoAppend, Json, PreloadedRows })
        {
            command.Options.Add(o);
        }
    }

    /// <summary>Adds the target options to <paramref name="command"/>.</summary>
    public void AddTargets(Command command)
    {
        foreach (var o in new Option[] { Endpoint, NodeEndpoint, Token, Metrics, DeadlineMs, Channels, Database, DatabasePrefix, Databases, Tables, Redis, RedisSetProbe, BloomRate })
        {
            command.Options.Add(o);
        }
    }

    public WorkloadOptions BindWorkload(ParseResult p) => new()
    {
        Seed = p.GetValue(Seed),
        Users = p.GetValue(Users),
        ZipfSkew = p.GetValue(Zipf),
        HistoryMin = p.GetValue(HistoryMin),
        HistoryMax = p.GetValue(HistoryMax),
        HistoryAlpha = p.GetValue(HistoryAlpha),
        HeavyShare = p.GetValue(HeavyShare),
        Candidates = p.GetValue(Candidates),
        ReadShare = p.GetValue(ReadShare),
        Sessions = p.GetValue(Sessions),
        SessionLength = p.GetValue(SessionLength),
    };

    public RunOptions BindRun(ParseResult p)
    {
        var scenario = p.GetValue(Scenario) ?? "feed";
        var peak = scenario == "rbase-peak";
        return new RunOptions
        {
            Scenario = scenario,
            // rbase-peak is RBase's published load: 30,000 checks/s × 400 ids with 40,000 rows/s written.
            CheckRate = peak && Implicit(p, Rate) ? 30_000 : p.GetValue(Rate),
            IngestRate = peak && Implicit(p, IngestRate) ? 40_000 : p.GetValue(IngestRate),
            IngestBatch = peak && Implicit(p, IngestBatch) ? 100 : p.GetValue(IngestBatch),
            Concurrency = p.GetValue(Concurrency),
            BatchUsers = p.GetValue(BatchUsers),
            MaxInFlight = p.GetValue(MaxInFlight),
            Warmup = TimeSpan.FromSeconds(p.GetValue(Warmup)),
            Duration = TimeSpan.FromSeconds(p.GetValue(Duration)),
            CoherenceWindow = TimeSpan.FromSeconds(p.GetValue(CoherenceWindow)),
        };
    }

    /// <summary>True when <paramref name="option"/> was not given (its value is the default).</summary>
    private static bool Implicit(ParseResult p, Option option) => p.GetResult(option) is not { Implicit: false };

    public TargetOptions BindTargets(ParseResult p) => new()
    {
        Endpoint = new Uri(p.GetValue(Endpoint)!),
        NodeEndpoint = string.IsNullOrEmpty(p.GetValue(NodeEndpoint)) ? null : new Uri(p.GetValue(NodeEndpoint)!),
        Token = string.IsNullOrEmpty(p.GetValue(Token)) ? null : p.GetValue(Token),
        MetricsUrl = string.IsNullOrEmpty(p.GetValue(Metrics)) ? null : new Uri(p.GetValue(Metrics)!),
        Deadline = TimeSpan.FromMilliseconds(p.GetValue(DeadlineMs)),
        Channels = p.GetValue(Channels),
        Database = p.GetValue(Database)!,
        DatabasePrefix = p.GetValue(DatabasePrefix)!,
        Databases = p.GetValue(Databases),
        TablesPerDatabase = p.GetValue(Tables),
        Redis = p.GetValue(Redis)!,
        RedisSetProbe = p.GetValue(RedisSetProbe)!,
        BloomFalsePositiveRate = p.GetValue(BloomRate),
    };
}
