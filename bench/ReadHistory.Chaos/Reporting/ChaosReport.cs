namespace ReadHistory.Chaos;

/// <summary>Everything one run found: the phases, the final verification, the assertions and any error.</summary>
internal sealed class ChaosReport
{
    /// <summary>A report of run <paramref name="runId"/>.</summary>
    public ChaosReport(string runId, ChaosOptions options)
    {
        RunId = runId;
        Options = options;
    }

    /// <summary>The run id (in namespace, link and folder names).</summary>
    public string RunId { get; }

    /// <summary>The options of the run.</summary>
    public ChaosOptions Options { get; }

    /// <summary>When the run started.</summary>
    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;

    /// <summary>The phases run, the warm-up first.</summary>
    public List<PhaseStats> Phases { get; } = [];

    /// <summary>Phases not run, with the reason (the partition without namespaces).</summary>
    public List<(string Phase, string Reason)> Skipped { get; } = [];

    /// <summary>The final verification.</summary>
    public FinalVerification Final { get; } = new();

    /// <summary>The assertions, once judged.</summary>
    public List<AssertionResult> Assertions { get; } = [];

    /// <summary>Errors that stopped the run (start-up failure, hard cap, a hung phase).</summary>
    public List<string> Errors { get; } = [];

    /// <summary>Where the processes' logs are.</summary>
    public string LogFolder { get; set; } = string.Empty;

    /// <summary>Calls the client did not make because too many were in flight.</summary>
    public long ShedCalls { get; set; }

    /// <summary>Seconds the whole run took.</summary>
    public double TotalSeconds { get; set; }

    /// <summary>Where the JSON and markdown went.</summary>
    public string? ResultsPrefix { get; set; }

    /// <summary>Whether every assertion held and nothing stopped the run.</summary>
    public bool Passed => Errors.Count == 0 && Assertions.Count > 0 && Assertions.All(static a => a.Passed);

    /// <summary>The assertions that failed, and the errors.</summary>
    public IEnumerable<string> Failures => Errors.Select(static e => "error: " + e.Split('\n')[0])
        .Concat(Assertions.Where(static a => !a.Passed).Select(static a => "FAILED: " + a.Name + " — " + a.Detail));
}
