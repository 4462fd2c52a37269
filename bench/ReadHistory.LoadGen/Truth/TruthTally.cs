namespace ReadHistory.LoadGen.Truth;

/// <summary>Counts of checked candidates by expectation and of wrong answers; thread-safe.</summary>
internal sealed class TruthTally
{
    private long _read;
    private long _readOther;
    private long _unread;
    private long _unsure;
    private long _falseNegatives;
    private long _falseNegativesOther;
    private long _falsePositives;

    /// <summary>Candidates that must be read (preload, same-session writes) and were checked.</summary>
    public long ReadChecked => Interlocked.Read(ref _read);

    /// <summary>Candidates written by another session past the coherence window.</summary>
    public long ReadOtherChecked => Interlocked.Read(ref _readOther);

    /// <summary>Never-written candidates checked.</summary>
    public long UnreadChecked => Interlocked.Read(ref _unread);

    /// <summary>Candidates inside the coherence window (not judged).</summary>
    public long Unsure => Interlocked.Read(ref _unsure);

    /// <summary>Must-be-read candidates reported unread (preload or same session).</summary>
    public long FalseNegatives => Interlocked.Read(ref _falseNegatives);

    /// <summary>Other-session writes past the coherence window reported unread.</summary>
    public long FalseNegativesOtherSession => Interlocked.Read(ref _falseNegativesOther);

    /// <summary>Never-written candidates reported read.</summary>
    public long FalsePositives => Interlocked.Read(ref _falsePositives);

    /// <summary>False positives over never-written candidates checked.</summary>
    public double FalsePositiveRate => UnreadChecked == 0 ? 0 : (double)FalsePositives / UnreadChecked;

    /// <summary>Judges one answer: <paramref name="read"/>[i] is the target's answer for the candidate with <paramref name="expected"/>[i].</summary>
    public void Judge(ReadOnlySpan<Expectation> expected, ReadOnlySpan<bool> read)
    {
        if (expected.Length != read.Length)
        {
            throw new ArgumentException("answer length differs from the candidates", nameof(read));
        }

        long r = 0, ro = 0, u = 0, un = 0, fn = 0, fno = 0, fp = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            switch (expected[i])
            {
                case Expectation.Read:
                    r++;
                    fn += read[i] ? 0 : 1;
                    break;
                case Expectation.ReadOtherSession:
                    ro++;
                    fno += read[i] ? 0 : 1;
                    break;
                case Expectation.Unread:
                    u++;
                    fp += read[i] ? 1 : 0;
                    break;
                default:
                    un++;
                    break;
            }
        }

        Interlocked.Add(ref _read, r);
        Interlocked.Add(ref _readOther, ro);
        Interlocked.Add(ref _unread, u);
        Interlocked.Add(ref _unsure, un);
        Interlocked.Add(ref _falseNegatives, fn);
        Interlocked.Add(ref _falseNegativesOther, fno);
        Interlocked.Add(ref _falsePositives, fp);
    }
}
