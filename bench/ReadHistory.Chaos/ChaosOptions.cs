namespace ReadHistory.Chaos;

/// <summary>What one run of the chaos suite does: phases, their timing, the offered traffic, where results go.</summary>
internal sealed record ChaosOptions
{
    /// <summary>Seconds each phase lasts at least (quiet baseline, fault, recovery); a phase waits longer for its component to be ready again.</summary>
    public int SecondsPerPhase { get; init; } = 35;

    /// <summary>Whether this is the short variant (as ./test.sh runs it).</summary>
    public bool Short { get; init; }

    /// <summary>MarkRead calls per second (1..3 items each), spread over both proxies.</summary>
    public double WriteRate { get; init; } = 150;

    /// <summary>Check calls per second (up to 8 acknowledged ids and 6 never-written ids each).</summary>
    public double CheckRate { get; init; } = 150;

    /// <summary>Distinct users written to.</summary>
    public int Users { get; init; } = 2_000;

    /// <summary>Sessions per user: each call is tagged with one of them.</summary>
    public int SessionsPerUser { get; init; } = 3;

    /// <summary>The client's deadline per call (the retries for UNAVAILABLE included).</summary>
    public TimeSpan CallDeadline { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a killed component stays down before its restart.</summary>
    public TimeSpan Outage { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a replica stays frozen (SIGSTOP) before SIGCONT.</summary>
    public TimeSpan Freeze { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long the isolated replica stays cut off from Redis.</summary>
    public TimeSpan Partition { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Longest wait for a component to be ready again (or for the cluster before a phase); past it the phase is reported hung and the run stops.</summary>
    public TimeSpan ReadyLimit { get; init; } = TimeSpan.FromSeconds(90);

    /// <summary>The phases to run, in order.</summary>
    public IReadOnlyList<PhaseKind> Phases { get; init; } = Enum.GetValues<PhaseKind>();

    /// <summary>Whether to use network namespaces (needs root); false runs without the partition phase, reported as skipped.</summary>
    public bool UseNamespaces { get; init; } = true;

    /// <summary>readhistory.dll to run; null = this build's configuration of src/ReadHistory.Server.</summary>
    public string? ServerDll { get; init; }

    /// <summary>Path prefix of the JSON and markdown results (.json / .md appended); null = bench/chaos/results/chaos-&lt;run id&gt;.</summary>
    public string? ResultsPrefix { get; init; }

    /// <summary>Seed of the traffic's random choices.</summary>
    public int Seed { get; init; } = 17;

    /// <summary>The whole run's bound: start-up, every phase at its longest, the verification and the stop.</summary>
    public TimeSpan HardCap => Short
        ? TimeSpan.FromSeconds(270)
        : TimeSpan.FromSeconds(180 + (Phases.Count * (SecondsPerPhase + 45)));

    /// <summary>The short variant: every phase, shorter windows and outages (about 2.5 minutes on 2 cores).</summary>
    public static ChaosOptions ForShort() => new()
    {
        Short = true,
        SecondsPerPhase = 13,
        Outage = TimeSpan.FromSeconds(4),
        Freeze = TimeSpan.FromSeconds(5),
        Partition = TimeSpan.FromSeconds(5),
        ReadyLimit = TimeSpan.FromSeconds(45),
    };
}
