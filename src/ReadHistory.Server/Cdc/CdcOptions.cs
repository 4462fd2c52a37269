namespace ReadHistory.Server.Cdc;

/// <summary>Settings of the CDC role and of the stream readers, under ReadHistory:Cdc.</summary>
internal sealed class CdcOptions
{
    /// <summary>How long the publisher lease lasts without renewal; a standby takes over at most this long after the leader dies.</summary>
    public TimeSpan LeaseTime { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often a standby tries to take the lease (and the leader renews it: a third of <see cref="LeaseTime"/>, at most this).</summary>
    public TimeSpan StandbyPollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Entries kept per slot stream (XADD MAXLEN ~): a replica further behind than this sees a gap and drops its filters.</summary>
    public int StreamMaxLength { get; set; } = 100_000;

    /// <summary>Rows gathered before a publish, all slots together (transactions are never split).</summary>
    public int MaxBatchRows { get; set; } = 8192;

    /// <summary>Longest time rows wait to be published while the binlog keeps delivering (an idle binlog publishes at once).</summary>
    public TimeSpan MaxBatchDelay { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>The replica server id the publisher registers with; 0 = random.</summary>
    public uint ServerId { get; set; }

    /// <summary>Entries a stream reader fetches per round trip.</summary>
    public int ReadCount { get; set; } = 256;

    /// <summary>
    /// Longest wait of a stream reader that found nothing new before it reads again: the BLOCK of its XREAD on its own
    /// connection (the shared one is never blocked), so an epoch change on an idle stream is seen within it.
    /// </summary>
    public TimeSpan ReadPollInterval { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Adds a problem per bad key.</summary>
    public void Validate(List<string> problems)
    {
        ArgumentNullException.ThrowIfNull(problems);
        if (LeaseTime < TimeSpan.FromSeconds(1) || LeaseTime > TimeSpan.FromMinutes(5))
        {
            problems.Add($"ReadHistory:Cdc:LeaseTime: {LeaseTime} is outside 1 s .. 5 min");
        }

        if (StandbyPollInterval < TimeSpan.FromMilliseconds(10) || StandbyPollInterval > LeaseTime)
        {
            problems.Add($"ReadHistory:Cdc:StandbyPollInterval: {StandbyPollInterval} is outside 10 ms .. LeaseTime");
        }

        if (StreamMaxLength is < 100 or > 100_000_000)
        {
            problems.Add($"ReadHistory:Cdc:StreamMaxLength: {StreamMaxLength} is outside 100 .. 100,000,000");
        }

        if (MaxBatchRows is < 1 or > 100_000)
        {
            problems.Add($"ReadHistory:Cdc:MaxBatchRows: {MaxBatchRows} is outside 1 .. 100,000");
        }

        if (MaxBatchDelay < TimeSpan.Zero || MaxBatchDelay > TimeSpan.FromSeconds(1))
        {
            problems.Add($"ReadHistory:Cdc:MaxBatchDelay: {MaxBatchDelay} is outside 0 .. 1 s");
        }

        if (ReadCount is < 1 or > 10_000)
        {
            problems.Add($"ReadHistory:Cdc:ReadCount: {ReadCount} is outside 1 .. 10,000");
        }

        if (ReadPollInterval < TimeSpan.FromMilliseconds(1) || ReadPollInterval > TimeSpan.FromSeconds(5))
        {
            problems.Add($"ReadHistory:Cdc:ReadPollInterval: {ReadPollInterval} is outside 1 ms .. 5 s");
        }
    }
}
