namespace ReadHistory.Chaos;

/// <summary>The acknowledged reads of one user, in acknowledgement order; guarded by its own lock.</summary>
internal sealed class UserHistory
{
    private readonly Lock _lock = new();
    private readonly List<AckedRead> _reads = [];

    /// <summary>A user's history.</summary>
    public UserHistory(ulong userId) => UserId = userId;

    /// <summary>The user id.</summary>
    public ulong UserId { get; }

    /// <summary>Session index of the last acknowledged write.</summary>
    public int LastSession { get; private set; }

    /// <summary>Adds the reads of one acknowledged write; true when they are the user's first.</summary>
    public bool Add(ReadOnlySpan<ulong> contentIds, long ackedAt, int session)
    {
        lock (_lock)
        {
            var first = _reads.Count == 0;
            foreach (var id in contentIds)
            {
                _reads.Add(new AckedRead(id, ackedAt, session));
            }

            LastSession = session;
            return first;
        }
    }

    /// <summary>
    /// Up to <paramref name="recent"/> of the newest and <paramref name="older"/> random other reads acknowledged before
    /// <paramref name="before"/> (Stopwatch ticks), appended to <paramref name="into"/>.
    /// </summary>
    public void Sample(long before, int recent, int older, Random random, List<AckedRead> into)
    {
        lock (_lock)
        {
            var end = _reads.Count;
            while (end > 0 && _reads[end - 1].AckedAt >= before)
            {
                end--;
            }

            var newest = Math.Min(recent, end);
            for (var i = end - newest; i < end; i++)
            {
                into.Add(_reads[i]);
            }

            var rest = end - newest;
            for (var i = 0; i < older && rest > 0; i++)
            {
                into.Add(_reads[random.Next(rest)]);
            }
        }
    }

    /// <summary>Every acknowledged read, copied.</summary>
    public AckedRead[] Snapshot()
    {
        lock (_lock)
        {
            return [.. _reads];
        }
    }
}
