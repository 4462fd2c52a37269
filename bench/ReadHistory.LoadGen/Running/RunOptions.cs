namespace ReadHistory.LoadGen.Running;

/// <summary>How to drive a target: scenario, loop mode, rates, durations.</summary>
internal sealed record RunOptions
{
    /// <summary><c>feed</c>, <c>push</c>, <c>ingest</c>, <c>rbase-peak</c> or <c>churn</c> (feed, with the node's database reads and T2 reported).</summary>
    public string Scenario { get; init; } = "feed";

    /// <summary>Open loop (offered rate) unless a closed-loop concurrency is given.</summary>
    public int? Concurrency { get; init; }

    /// <summary>Offered check calls/s (push: batch calls/s).</summary>
    public double CheckRate { get; init; } = 1000;

    /// <summary>Offered ingest rows/s.</summary>
    public double IngestRate { get; init; } = 1000;

    /// <summary>Rows per write call.</summary>
    public int IngestBatch { get; init; } = 10;

    /// <summary>Users per BatchCheck (push).</summary>
    public int BatchUsers { get; init; } = 50;

    /// <summary>In-flight cap per stream (open loop).</summary>
    public int MaxInFlight { get; init; } = 512;

    /// <summary>Warm-up before the measured period.</summary>
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Measured period.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>After this long, another session must see an acknowledged write.</summary>
    public TimeSpan CoherenceWindow { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Whether this scenario issues checks.</summary>
    public bool HasChecks => Scenario != "ingest";

    /// <summary>Whether this scenario issues writes.</summary>
    public bool HasWrites => Scenario is "feed" or "ingest" or "rbase-peak" or "churn" && IngestRate > 0;
}
