namespace ReadHistory.Cli;

/// <summary>What an ingest has read and sent so far.</summary>
internal sealed class IngestProgress
{
    /// <summary>Events (lines with data) read.</summary>
    public long Events { get; set; }

    /// <summary>Ingest messages sent.</summary>
    public long Batches { get; set; }
}
