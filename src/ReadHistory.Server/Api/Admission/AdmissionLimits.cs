namespace ReadHistory.Server.Api.Admission;

/// <summary>Calls in flight allowed per class on one process (0 = that class is not bounded).</summary>
internal sealed class AdmissionLimits
{
    /// <summary>Check and Filter calls in flight.</summary>
    public int Checks { get; set; }

    /// <summary>MarkRead, ForgetUser and Ingest messages in flight: a share of their own, which checks never take.</summary>
    public int Writes { get; set; }

    /// <summary>BatchCheck calls in flight.</summary>
    public int Batch { get; set; }

    /// <summary>
    /// With a value above zero the Checks and Batch bounds adapt (<see cref="AdaptiveConcurrencyLimiter"/>): each is a
    /// maximum, lowered while the fastest call of a 100 ms window takes longer than this. Zero: fixed bounds. Writes
    /// keep their fixed share either way.
    /// </summary>
    public TimeSpan TargetLatency { get; set; }

    /// <summary>The bound of <paramref name="callClass"/>.</summary>
    public int Of(CallClass callClass) => callClass switch
    {
        CallClass.Checks => Checks,
        CallClass.Writes => Writes,
        CallClass.Batch => Batch,
        _ => 0,
    };

    /// <summary>Adds a problem per bad key below <paramref name="section"/>.</summary>
    public void Validate(string section, List<string> problems)
    {
        Check(Checks, section + ":Checks", problems);
        Check(Writes, section + ":Writes", problems);
        Check(Batch, section + ":Batch", problems);
        if (TargetLatency != TimeSpan.Zero && (TargetLatency < TimeSpan.FromMilliseconds(1) || TargetLatency > TimeSpan.FromSeconds(10)))
        {
            problems.Add($"{section}:TargetLatency: {TargetLatency} is outside 00:00:00.001 .. 00:00:10 (00:00:00 = fixed bounds)");
        }
    }

    /// <summary>Whether <paramref name="callClass"/>'s bound adapts to <see cref="TargetLatency"/>.</summary>
    public bool Adapts(CallClass callClass) => TargetLatency > TimeSpan.Zero && Of(callClass) > 0 && callClass is CallClass.Checks or CallClass.Batch;

    private static void Check(int value, string key, List<string> problems)
    {
        if (value is < 0 or > 1_000_000)
        {
            problems.Add($"{key}: {value} is outside 0 .. 1,000,000 (0 = not bounded)");
        }
    }
}
