using ReadHistory.LoadGen.Measure;
using ReadHistory.LoadGen.Targets;

namespace ReadHistory.LoadGen.Running;

/// <summary>One stream's figures over the measured period.</summary>
internal sealed record StreamResult(
    string Name,
    double OfferedPerSecond,
    double AchievedPerSecond,
    double ItemsPerSecond,
    long Completed,
    long NotIssued,
    IReadOnlyDictionary<string, long> Errors,
    double P50Ms,
    double P90Ms,
    double P99Ms,
    double P999Ms,
    double MaxMs,
    long Refused = 0,
    double AdmittedP99Ms = 0);

/// <summary>What the ground truth found.</summary>
internal sealed record TruthResult(
    long ReadChecked,
    long FalseNegatives,
    long ReadOtherSessionChecked,
    long FalseNegativesOtherSession,
    long InsideCoherenceWindow,
    long UnreadChecked,
    long FalsePositives,
    double FalsePositiveRate,
    long RowsAcknowledged);

/// <summary>
/// One target's run; <paramref name="Cpu"/> and the load averages cover the measured period, as do
/// <paramref name="NodeRates"/> (a cache node's counters per second, from its /metrics; service targets with --metrics).
/// <paramref name="SecondTier"/>: what T2 holds in the node's Redis after the run (churn against the service).
/// </summary>
internal sealed record TargetResult(
    string Target,
    string Scenario,
    string Mode,
    double WarmupSeconds,
    double MeasuredSeconds,
    IReadOnlyList<StreamResult> Streams,
    TruthResult Truth,
    MemoryFigure? Memory,
    IReadOnlyList<CpuFigure> Cpu,
    double LoadAverageStart,
    double LoadAverageEnd,
    IReadOnlyDictionary<string, double>? NodeRates = null,
    SecondTierFootprint? SecondTier = null);
