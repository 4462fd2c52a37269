namespace ReadHistory.Chaos;

/// <summary>Names and descriptions of the phases as the report prints them.</summary>
internal static class PhaseNames
{
    /// <summary>The short name (also the command line's --phases value).</summary>
    public static string Name(PhaseKind kind) => kind switch
    {
        PhaseKind.ReplicaKill => "replica-kill",
        PhaseKind.ReplicaFreeze => "replica-freeze",
        PhaseKind.CdcKill => "cdc-kill",
        PhaseKind.ProxyKill => "proxy-kill",
        PhaseKind.RedisKill => "redis-kill",
        PhaseKind.MariaDbKill => "mariadb-kill",
        PhaseKind.Partition => "partition",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>The phase named <paramref name="name"/>.</summary>
    public static PhaseKind Parse(string name) =>
        Enum.GetValues<PhaseKind>().FirstOrDefault(k => Name(k) == name.Trim(), (PhaseKind)(-1)) is var kind && Enum.IsDefined(kind)
            ? kind
            : throw new ArgumentException("unknown phase '" + name + "'; phases: " + string.Join(", ", Enum.GetValues<PhaseKind>().Select(Name)));

    /// <summary>Whether the issue bounds failed calls in this phase (≤ 0.1 %).</summary>
    public static bool BoundsFailures(PhaseKind kind) => kind is PhaseKind.ReplicaKill or PhaseKind.ReplicaFreeze or PhaseKind.ProxyKill;
}
