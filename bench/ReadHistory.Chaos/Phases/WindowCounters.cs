namespace ReadHistory.Chaos;

/// <summary>Counters of one window of a phase (its baseline or its fault window); guarded by the owning <see cref="PhaseStats"/>.</summary>
internal sealed class WindowCounters
{
    /// <summary>MarkRead calls finished.</summary>
    public long Writes { get; set; }

    /// <summary>Rows acknowledged.</summary>
    public long AckedRows { get; set; }

    /// <summary>Rows of failed writes (unknown outcome: excluded from the FN and FP accounting).</summary>
    public long UnknownRows { get; set; }

    /// <summary>Failed writes by status code.</summary>
    public SortedDictionary<string, long> WriteFailures { get; } = new(StringComparer.Ordinal);

    /// <summary>Check calls finished.</summary>
    public long Checks { get; set; }

    /// <summary>Failed checks by status code.</summary>
    public SortedDictionary<string, long> CheckFailures { get; } = new(StringComparer.Ordinal);

    /// <summary>Acknowledged ids asked about in answered checks.</summary>
    public long AckedChecked { get; set; }

    /// <summary>False negatives: read acknowledged at most 1 s before the check, the check in the write's session.</summary>
    public long FnRecentSame { get; set; }

    /// <summary>False negatives: read acknowledged at most 1 s before the check, another session.</summary>
    public long FnRecentOther { get; set; }

    /// <summary>False negatives: read acknowledged more than 1 s before the check, the write's session.</summary>
    public long FnOlderSame { get; set; }

    /// <summary>False negatives: read acknowledged more than 1 s before the check, another session.</summary>
    public long FnOlderOther { get; set; }

    /// <summary>Never-written ids asked about.</summary>
    public long NeverWrittenChecked { get; set; }

    /// <summary>Never-written ids reported read.</summary>
    public long FalsePositives { get; set; }

    /// <summary>Calls that failed.</summary>
    public long Failures => WriteFailures.Values.Sum() + CheckFailures.Values.Sum();

    /// <summary>Calls finished.</summary>
    public long Calls => Writes + Checks;

    /// <summary>All false negatives.</summary>
    public long FalseNegatives => FnRecentSame + FnRecentOther + FnOlderSame + FnOlderOther;

    /// <summary>The sum of two windows.</summary>
    public static WindowCounters Sum(WindowCounters a, WindowCounters b)
    {
        var sum = new WindowCounters
        {
            Writes = a.Writes + b.Writes,
            AckedRows = a.AckedRows + b.AckedRows,
            UnknownRows = a.UnknownRows + b.UnknownRows,
            Checks = a.Checks + b.Checks,
            AckedChecked = a.AckedChecked + b.AckedChecked,
            FnRecentSame = a.FnRecentSame + b.FnRecentSame,
            FnRecentOther = a.FnRecentOther + b.FnRecentOther,
            FnOlderSame = a.FnOlderSame + b.FnOlderSame,
            FnOlderOther = a.FnOlderOther + b.FnOlderOther,
            NeverWrittenChecked = a.NeverWrittenChecked + b.NeverWrittenChecked,
            FalsePositives = a.FalsePositives + b.FalsePositives,
        };
        foreach (var (target, sources) in new[] { (sum.WriteFailures, new[] { a.WriteFailures, b.WriteFailures }), (sum.CheckFailures, new[] { a.CheckFailures, b.CheckFailures }) })
        {
            foreach (var (code, count) in sources.SelectMany(static s => s))
            {
                target[code] = target.GetValueOrDefault(code) + count;
            }
        }

        return sum;
    }
}
