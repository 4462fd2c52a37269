using System.Collections.Concurrent;

namespace ReadHistory.Chaos;

/// <summary>
/// The exact ledger: every acknowledged read (user, content type, id, acknowledgement time, session). Writes that
/// failed or ran out of time have an unknown outcome; they are only counted, and their ids are never checked.
/// Written ids have the top bit clear; ids with it set are never written (the false-positive probes).
/// </summary>
internal sealed class Ledger
{
    /// <summary>The one content type the suite writes and checks.</summary>
    public const uint ContentType = 1;

    /// <summary>Set in every id that is never written.</summary>
    public const ulong NeverWrittenBit = 1UL << 63;

    private readonly ConcurrentDictionary<ulong, UserHistory> _users = new();
    private readonly ConcurrentQueue<UserHistory> _recent = new();
    private readonly Lock _listLock = new();
    private readonly List<UserHistory> _written = [];
    private long _ackedRows;
    private long _unknownRows;

    /// <summary>Rows acknowledged so far.</summary>
    public long AckedRows => Interlocked.Read(ref _ackedRows);

    /// <summary>Rows of writes whose outcome is unknown.</summary>
    public long UnknownRows => Interlocked.Read(ref _unknownRows);

    /// <summary>Records an acknowledged write.</summary>
    public void Acknowledge(ulong userId, ReadOnlySpan<ulong> contentIds, long ackedAt, int session)
    {
        var user = _users.GetOrAdd(userId, static id => new UserHistory(id));
        if (user.Add(contentIds, ackedAt, session))
        {
            lock (_listLock)
            {
                _written.Add(user);
            }
        }

        _recent.Enqueue(user);
        while (_recent.Count > 256 && _recent.TryDequeue(out _))
        {
        }

        Interlocked.Add(ref _ackedRows, contentIds.Length);
    }

    /// <summary>Records a write whose outcome is unknown.</summary>
    public void Unknown(int rows) => Interlocked.Add(ref _unknownRows, rows);

    /// <summary>A user to check: half the time one written to lately (so that fresh reads get checked), else any written user; null before any write.</summary>
    public UserHistory? PickUser(Random random)
    {
        if (random.Next(2) == 0)
        {
            var recent = _recent.ToArray();
            if (recent.Length > 0)
            {
                return recent[random.Next(recent.Length)];
            }
        }

        lock (_listLock)
        {
            return _written.Count == 0 ? null : _written[random.Next(_written.Count)];
        }
    }

    /// <summary>Every user with at least one acknowledged read.</summary>
    public UserHistory[] Users()
    {
        lock (_listLock)
        {
            return [.. _written];
        }
    }
}
