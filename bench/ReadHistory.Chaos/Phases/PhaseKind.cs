namespace ReadHistory.Chaos;

/// <summary>The faults the suite injects, one per phase, in this order.</summary>
internal enum PhaseKind
{
    /// <summary>SIGKILL of one cache replica, restart after the outage.</summary>
    ReplicaKill,

    /// <summary>SIGSTOP of one cache replica for the freeze time, then SIGCONT.</summary>
    ReplicaFreeze,

    /// <summary>SIGKILL of the CDC, restart after the outage.</summary>
    CdcKill,

    /// <summary>SIGKILL of one of the two proxies, restart after the outage.</summary>
    ProxyKill,

    /// <summary>SIGKILL of Redis (AOF, everysec), restart after the outage.</summary>
    RedisKill,

    /// <summary>SIGKILL of MariaDB, restart after the outage.</summary>
    MariaDbKill,

    /// <summary>One replica, in its own network namespace, cut off from Redis by a blackhole route, then healed.</summary>
    Partition,
}
