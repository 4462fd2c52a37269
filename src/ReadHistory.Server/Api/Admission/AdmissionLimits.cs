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
    }

    private static void Check(int value, string key, List<string> problems)
    {
        if (value is < 0 or > 1_000_000)
        {
            problems.Add($"{key}: {value} is outside 0 .. 1,000,000 (0 = not bounded)");
        }
    }
}
