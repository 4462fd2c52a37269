namespace ReadHistory.Server.Cdc;

/// <summary>Settings of the CDC role and of the stream readers, under ReadHistory:Cdc (defaults in appsettings.json).</summary>
internal sealed class CdcOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "ReadHistory:Cdc";

    /// <summary>How long the publisher lease lasts without renewal; a standby takes over at most this long after the leader dies.</summary>
    public TimeSpan LeaseTime { get; set; }

    /// <summary>How often a standby tries to take the lease (and the leader renews it: a third of <see cref="LeaseTime"/>, at most this).</summary>
    public TimeSpan StandbyPollInterval { get; set; }

    /// <summary>Entries kept per slot stream (XADD MAXLEN ~): a replica further behind than this sees a gap and drops its filters.</summary>
    public int StreamMaxLength { get; set; }

    /// <summary>Rows gathered before a publish, all slots together (transactions are never split).</summary>
    public int MaxBatchRows { get; set; }

    /// <summary>Longest time rows wait to be published while the binlog keeps delivering (an idle binlog publishes at once).</summary>
    public TimeSpan MaxBatchDelay { get; set; }

    /// <summary>
    /// How often the leader appends a heartbeat (an empty batch stamped with a time before which every committed row is
    /// in the stream) to every slot stream that got no batch meanwhile, so replicas can measure their staleness; 0 = off.
    /// </summary>
    public TimeSpan HeartbeatInterval { get; set; }

    /// <summary>The replica server id the publisher registers with; 0 = random.</summary>
    public uint ServerId { get; set; }

    /// <summary>Entries a stream reader fetches per round trip.</summary>
    public int ReadCount { get; set; }

    /// <summary>
    /// Longest wait of a stream reader that found nothing new before it reads again: the BLOCK of its XREAD on its own
    /// connection (the shared one is never blocked), so an epoch change on an idle stream is seen within it.
    /// </summary>
    public TimeSpan ReadPollInterval { get; set; }

    /// <summary>Adds a problem per bad key.</summary>
    public void Validate(List<string> problems)
    {
        ArgumentNullException.ThrowIfNull(problems);
        if (LeaseTime < TimeSpan.FromSeconds(1) || LeaseTime > TimeSpan.FromMinutes(5))
        {
            problems.Add($"{Section}:LeaseTime: {LeaseTime} is outside 1 s .. 5 min");
        }

        if (StandbyPollInterval < TimeSpan.FromMilliseconds(10) || StandbyPollInterval > LeaseTime)
        {
            problems.Add($"{Section}:StandbyPollInterval: {StandbyPollInterval} is outside 10 ms .. LeaseTime");
        }

        if (StreamMaxLength is < 100 or > 100_000_000)
        {
            problems.Add($"{Section}:StreamMaxLength: {StreamMaxLength} is outside 100 .. 100,000,000");
        }

        if (MaxBatchRows is < 1 or > 100_000)
        {
            problems.Add($"{Section}:MaxBatchRows: {MaxBatchRows} is outside 1 .. 100,000");
        }

        if (MaxBatchDelay < TimeSpan.Zero || MaxBatchDelay > TimeSpan.FromSeconds(1))
        {
            problems.Add($"{Section}:MaxBatchDelay: {MaxBatchDelay} is outside 0 .. 1 s");
        }

        if (HeartbeatInterval != TimeSpan.Zero && (HeartbeatInterval < TimeSpan.FromMilliseconds(10) || HeartbeatInterval > TimeSpan.FromSeconds(10)))
        {
            problems.Add($"{Section}:HeartbeatInterval: {HeartbeatInterval} is outside 10 ms .. 10 s (0 = off)");
        }

        if (ReadCount is < 1 or > 10_000)
        {
            problems.Add($"{Section}:ReadCount: {ReadCount} is outside 1 .. 10,000");
        }

        if (ReadPollInterval < TimeSpan.FromMilliseconds(1) || ReadPollInterval > TimeSpan.FromSeconds(5))
        {
            problems.Add($"{Section}:ReadPollInterval: {ReadPollInterval} is outside 1 ms .. 5 s");
        }
    }
}
