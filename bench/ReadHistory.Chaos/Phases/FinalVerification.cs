namespace ReadHistory.Chaos;

/// <summary>The end-of-run check of every acknowledged read, through the proxies and in the database.</summary>
internal sealed class FinalVerification
{
    /// <summary>Whether it ran (a run that hung or failed to start has none).</summary>
    public bool Ran { get; set; }

    /// <summary>Acknowledged reads in the ledger.</summary>
    public long AckedReads { get; set; }

    /// <summary>Rows of writes with an unknown outcome (excluded).</summary>
    public long UnknownRows { get; set; }

    /// <summary>Acknowledged reads a Check through the proxies reported unread.</summary>
    public long FalseNegatives { get; set; }

    /// <summary>Acknowledged reads whose Check failed on every attempt (not verified).</summary>
    public long Unverified { get; set; }

    /// <summary>Acknowledged reads with no row in the database.</summary>
    public long MissingRows { get; set; }

    /// <summary>Rows in the database's history tables.</summary>
    public long DatabaseRows { get; set; }

    /// <summary>Seconds the verification took.</summary>
    public double Seconds { get; set; }
}
