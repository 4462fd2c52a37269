using ReadHistory.Core.Filters;

namespace ReadHistory.Server.Cache;

/// <summary>
/// The cache role's settings, under ReadHistory:Cache. Defaults live in appsettings.json only (the one exception:
/// <see cref="RebuildConcurrency"/>, which depends on the machine). To add a setting: a property here, its bound in
/// <see cref="Validate"/>, its default with a comment in appsettings.json, and a row in docs/configuration.md.
/// </summary>
internal sealed class CacheNodeOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "ReadHistory:Cache";

    /// <summary>
    /// Half the cores, at least one: a rebuild scan keeps about one core busy between this node and the database, so
    /// more at once would take the cores the point queries of misses need (measured in bench/RESULTS.md).
    /// </summary>
    public static readonly int DefaultRebuildConcurrency = Math.Max(1, Environment.ProcessorCount / 2);

    /// <summary>The pool this node serves (a pool name of the topology; "default" without one).</summary>
    public string Pool { get; set; } = string.Empty;

    /// <summary>Most bytes of filters held.</summary>
    public long BudgetBytes { get; set; }

    /// <summary>Replicas per slot: a StatefulSet pod with ordinal n serves slot n / R, replica n % R.</summary>
    public int ReplicasPerSlot { get; set; }

    /// <summary>The slot this node serves; -1 = from the trailing ordinal n of NodeName (slot = n / ReplicasPerSlot).</summary>
    public int Slot { get; set; }

    /// <summary>This node's replica index in its slot (its place in the topology's replica list); -1 = the trailing ordinal n of NodeName, n % ReplicasPerSlot.</summary>
    public int Replica { get; set; }

    /// <summary>Target false-positive rate of every user's filter.</summary>
    public double TargetFalsePositiveRate { get; set; }

    /// <summary>Largest filter of one user; beyond it the user is answered by point queries.</summary>
    public long MaxFilterBytes { get; set; }

    /// <summary>Rebuilds running at once (absent: <see cref="DefaultRebuildConcurrency"/>).</summary>
    public int RebuildConcurrency { get; set; } = DefaultRebuildConcurrency;

    /// <summary>Rows per second all rebuild scans may read together, so that rebuilds stay low priority; 0 = unlimited.</summary>
    public long RebuildRowsPerSecond { get; set; }

    /// <summary>Attempts of one rebuild before it gives up (the user stays on point queries until its next miss).</summary>
    public int RebuildMaxAttempts { get; set; }

    /// <summary>Wait before the first retry of a failed rebuild; doubles each attempt.</summary>
    public TimeSpan RebuildRetryDelay { get; set; }

    /// <summary>Changes buffered for one user under rebuild; past it the rebuild is abandoned.</summary>
    public int MaxBufferedChangesPerUser { get; set; }

    /// <summary>
    /// Bound on warm start (finding a serving peer of the slot in the topology, copying its filters, replaying the
    /// stream up to now); past it the node starts cold and reports ready. 0 = never warm-start.
    /// </summary>
    public TimeSpan WarmStartTimeout { get; set; }

    /// <summary>Filter data per Snapshot message asked of the peer.</summary>
    public int WarmStartChunkBytes { get; set; }

    /// <summary>HTTP/2 receive window of the Snapshot stream: bytes the peer may send ahead (see <see cref="WarmStartOptions.WindowBytes"/>).</summary>
    public int WarmStartWindowBytes { get; set; }

    /// <summary>
    /// Past this much time behind the CDC's stamps (now minus the newest heartbeat or batch stamp applied) the node is
    /// stale: proxies prefer its fresher peers and its answers from memory say so (see <see cref="NodeFreshness"/>).
    /// </summary>
    public TimeSpan MaxStaleness { get; set; }

    /// <summary>
    /// Peer fan-out: send every write and Forget this node commits to the other replicas of its slot (the topology's
    /// replica list) at once, besides the change stream.
    /// </summary>
    public bool PeerFanOut { get; set; }

    /// <summary>Longest a MarkRead or Forget waits for the peers' acknowledgement after its own bits are set; 0 = never waits.</summary>
    public TimeSpan PeerFanOutWait { get; set; }

    /// <summary>Changes queued for one peer (sent or not yet acknowledged); past it new changes for that peer are dropped and counted.</summary>
    public int PeerFanOutMaxQueuedChanges { get; set; }

    /// <summary>Most changes (content ids plus user deletions) in one ApplyChanges call, sent and accepted.</summary>
    public int PeerFanOutMaxChangesPerCall { get; set; }

    /// <summary>Deadline of one ApplyChanges call; a call that fails or passes it puts the peer in backoff.</summary>
    public TimeSpan PeerFanOutCallTimeout { get; set; }

    /// <summary>Fraction of the Checks answered from memory the false-positive verifier draws; 0 = off.</summary>
    public double VerifierSampleFraction { get; set; }

    /// <summary>Ids the verifier draws from each sampled Check.</summary>
    public int VerifierIdsPerSample { get; set; }

    /// <summary>Most database queries per second the verifier makes (on the low-priority pool).</summary>
    public double VerifierQueriesPerSecond { get; set; }

    /// <summary>The second tier: filter snapshots in Redis (ReadHistory:Cache:T2).</summary>
    public SnapshotTierOptions T2 { get; set; } = new();

    /// <summary>Adds a problem per bad key.</summary>
    public void Validate(List<string> problems)
    {
        ArgumentNullException.ThrowIfNull(problems);
        if (string.IsNullOrEmpty(Pool))
        {
            problems.Add($"{Section}:Pool: empty");
        }

        if (BudgetBytes < 1 << 20)
        {
            problems.Add($"{Section}:BudgetBytes: {BudgetBytes} is below 1 MiB");
        }

        if (ReplicasPerSlot is < 1 or > 16)
        {
            problems.Add($"{Section}:ReplicasPerSlot: {ReplicasPerSlot} is outside 1 .. 16");
        }

        if (TargetFalsePositiveRate is <= 0 or >= 0.5)
        {
            problems.Add($"{Section}:TargetFalsePositiveRate: {TargetFalsePositiveRate} is outside (0, 0.5)");
        }

        if (MaxFilterBytes < 64 || MaxFilterBytes > BudgetBytes)
        {
            problems.Add($"{Section}:MaxFilterBytes: {MaxFilterBytes} is outside 64 .. BudgetBytes ({BudgetBytes})");
        }

        if (Slot is < -1 or > 4095)
        {
            problems.Add($"{Section}:Slot: {Slot} is outside -1 .. 4095");
        }

        if (Replica is < -1 or > 15)
        {
            problems.Add($"{Section}:Replica: {Replica} is outside -1 .. 15");
        }

        if (RebuildConcurrency is < 1 or > 64)
        {
            problems.Add($"{Section}:RebuildConcurrency: {RebuildConcurrency} is outside 1 .. 64");
        }

        if (RebuildRowsPerSecond < 0)
        {
            problems.Add($"{Section}:RebuildRowsPerSecond: {RebuildRowsPerSecond} is below 0 (0 = unlimited)");
        }

        if (RebuildMaxAttempts is < 1 or > 100)
        {
            problems.Add($"{Section}:RebuildMaxAttempts: {RebuildMaxAttempts} is outside 1 .. 100");
        }

        if (RebuildRetryDelay < TimeSpan.Zero || RebuildRetryDelay > TimeSpan.FromMinutes(1))
        {
            problems.Add($"{Section}:RebuildRetryDelay: {RebuildRetryDelay} is outside 0 .. 1 minute");
        }

        if (MaxBufferedChangesPerUser is < 1 or > 100_000_000)
        {
            problems.Add($"{Section}:MaxBufferedChangesPerUser: {MaxBufferedChangesPerUser} is outside 1 .. 100,000,000");
        }

        if (WarmStartTimeout < TimeSpan.Zero || WarmStartTimeout > TimeSpan.FromHours(1))
        {
            problems.Add($"{Section}:WarmStartTimeout: {WarmStartTimeout} is outside 0 .. 1 hour");
        }

        if (WarmStartChunkBytes is < SnapshotSender.MinChunkBytes or > SnapshotSender.MaxChunkBytes)
        {
            problems.Add($"{Section}:WarmStartChunkBytes: {WarmStartChunkBytes} is outside {SnapshotSender.MinChunkBytes} .. {SnapshotSender.MaxChunkBytes}");
        }

        if (WarmStartWindowBytes is < WarmStartOptions.MinWindowBytes or > WarmStartOptions.MaxWindowBytes)
        {
            problems.Add($"{Section}:WarmStartWindowBytes: {WarmStartWindowBytes} is outside {WarmStartOptions.MinWindowBytes} .. {WarmStartOptions.MaxWindowBytes}");
        }

        if (MaxStaleness < TimeSpan.FromMilliseconds(10) || MaxStaleness > TimeSpan.FromHours(1))
        {
            problems.Add($"{Section}:MaxStaleness: {MaxStaleness} is outside 10 ms .. 1 hour");
        }

        if (PeerFanOutWait < TimeSpan.Zero || PeerFanOutWait > TimeSpan.FromSeconds(1))
        {
            problems.Add($"{Section}:PeerFanOutWait: {PeerFanOutWait} is outside 0 .. 1 second");
        }

        if (PeerFanOutMaxQueuedChanges is < 1 or > 10_000_000)
        {
            problems.Add($"{Section}:PeerFanOutMaxQueuedChanges: {PeerFanOutMaxQueuedChanges} is outside 1 .. 10,000,000");
        }

        if (PeerFanOutMaxChangesPerCall is < 1 or > 100_000)
        {
            problems.Add($"{Section}:PeerFanOutMaxChangesPerCall: {PeerFanOutMaxChangesPerCall} is outside 1 .. 100,000");
        }

        T2.Validate(problems);
        if (PeerFanOutCallTimeout < TimeSpan.FromMilliseconds(10) || PeerFanOutCallTimeout > TimeSpan.FromMinutes(1))
        {
            problems.Add($"{Section}:PeerFanOutCallTimeout: {PeerFanOutCallTimeout} is outside 10 ms .. 1 minute");
        }

        if (VerifierSampleFraction is < 0 or > 1 || double.IsNaN(VerifierSampleFraction))
        {
            problems.Add($"{Section}:VerifierSampleFraction: {VerifierSampleFraction} is outside 0 .. 1 (0 = off)");
        }

        if (VerifierIdsPerSample is < 1 or > 1024)
        {
            problems.Add($"{Section}:VerifierIdsPerSample: {VerifierIdsPerSample} is outside 1 .. 1024");
        }

        if (VerifierQueriesPerSecond is < 0.1 or > 10_000 || double.IsNaN(VerifierQueriesPerSecond))
        {
            problems.Add($"{Section}:VerifierQueriesPerSecond: {VerifierQueriesPerSecond} is outside 0.1 .. 10,000");
        }
    }

    /// <summary>The parameters of this node's pool cache.</summary>
    public CacheOptions ToCacheOptions() => new()
    {
        Pool = Pool,
        BudgetBytes = BudgetBytes,
        Filter = new BloomFilterOptions { TargetFalsePositiveRate = TargetFalsePositiveRate, MaxBytes = MaxFilterBytes },
        RebuildConcurrency = RebuildConcurrency,
        RebuildRowsPerSecond = RebuildRowsPerSecond,
        RebuildMaxAttempts = RebuildMaxAttempts,
        RebuildRetryDelay = RebuildRetryDelay,
        MaxBufferedChangesPerUser = MaxBufferedChangesPerUser,
        Verifier = VerifierSampleFraction > 0
            ? new FalsePositiveVerifierOptions { SampleFraction = VerifierSampleFraction, IdsPerSample = VerifierIdsPerSample, QueriesPerSecond = VerifierQueriesPerSecond }
            : null,
    };
}
