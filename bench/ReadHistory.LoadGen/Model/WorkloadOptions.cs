namespace ReadHistory.LoadGen.Model;

/// <summary>Every parameter of the workload model; the defaults describe a feed.</summary>
internal sealed record WorkloadOptions
{
    /// <summary>Seed: the same seed gives the same users, histories and call stream.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Users U.</summary>
    public int Users { get; init; } = 100_000;

    /// <summary>Zipf skew s of user popularity (which user a session belongs to).</summary>
    public double ZipfSkew { get; init; } = 0.99;

    /// <summary>First user id; user of rank r is <c>UserIdBase + r</c>.</summary>
    public ulong UserIdBase { get; init; } = 1_000_000_000;

    /// <summary>Smallest history (rows) of the bounded-Pareto size model.</summary>
    public int HistoryMin { get; init; } = 10;

    /// <summary>Largest history (rows).</summary>
    public int HistoryMax { get; init; } = 300_000;

    /// <summary>Pareto shape of history sizes (smaller: heavier tail).</summary>
    public double HistoryAlpha { get; init; } = 1.1;

    /// <summary>Share of users given exactly <see cref="HistoryMax"/> rows (the heavy readers every feed has).</summary>
    public double HeavyShare { get; init; } = 0.0001;

    /// <summary>Candidates per check.</summary>
    public int Candidates { get; init; } = 400;

    /// <summary>Share of the candidates the user has read.</summary>
    public double ReadShare { get; init; } = 0.3;

    /// <summary>Content type of every row.</summary>
    public uint ContentType { get; init; } = 1;

    /// <summary>Simulated clients, each with its own sticky session id.</summary>
    public int Sessions { get; init; } = 256;

    /// <summary>Calls a session makes for one user before it moves to the next (drawn from the Zipf popularity).</summary>
    public int SessionLength { get; init; } = 20;
}
