namespace ReadHistory.Chaos;

/// <summary>What one answered Check said about the ids the ledger knows.</summary>
internal struct CheckVerdicts
{
    /// <summary>Acknowledged ids asked about.</summary>
    public int AckedChecked;

    /// <summary>Never-written ids asked about.</summary>
    public int NeverWrittenChecked;

    /// <summary>Never-written ids reported read.</summary>
    public int FalsePositives;

    /// <summary>Unread answers for reads acknowledged ≤ 1 s before, in the write's session.</summary>
    public int FnRecentSame;

    /// <summary>Unread answers for reads acknowledged ≤ 1 s before, another session.</summary>
    public int FnRecentOther;

    /// <summary>Unread answers for reads acknowledged &gt; 1 s before, in the write's session.</summary>
    public int FnOlderSame;

    /// <summary>Unread answers for reads acknowledged &gt; 1 s before, another session.</summary>
    public int FnOlderOther;

    /// <summary>Age of the oldest acknowledged read reported unread, in seconds.</summary>
    public double MaxFalseNegativeAgeSeconds;

    /// <summary>All false negatives of the call.</summary>
    public readonly int FalseNegatives => FnRecentSame + FnRecentOther + FnOlderSame + FnOlderOther;
}
