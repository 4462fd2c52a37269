using System.Collections.Concurrent;

namespace ReadHistory.Server.IntegrationTests.Coherence;

/// <summary>
/// The exact model of a coherence test: every content id whose MarkRead was acknowledged, per user. Writes that
/// failed are not in it (they may or may not be committed, so they can only turn up as positives).
/// </summary>
internal sealed class AcknowledgedReads
{
    /// <summary>Ids never written by any test: the negatives a check carries to measure the false-positive rate.</summary>
    public const ulong NegativeBase = 1UL << 50;

    private readonly ConcurrentDictionary<ulong, ConcurrentDictionary<ulong, byte>> _byUser = new();
    private long _writes;

    /// <summary>Acknowledged MarkRead calls so far.</summary>
    public long Writes => Interlocked.Read(ref _writes);

    /// <summary>Acknowledged ids so far, all users.</summary>
    public long Ids => _byUser.Values.Sum(static ids => (long)ids.Count);

    /// <summary>The users with at least one acknowledged id.</summary>
    public IReadOnlyList<ulong> Users => [.. _byUser.Keys.Order()];

    /// <summary>Records an acknowledged write.</summary>
    public void Acknowledge(ulong user, IEnumerable<ulong> ids)
    {
        var set = _byUser.GetOrAdd(user, static _ => new ConcurrentDictionary<ulong, byte>());
        foreach (var id in ids)
        {
            set[id] = 0;
        }

        Interlocked.Increment(ref _writes);
    }

    /// <summary>The acknowledged ids of <paramref name="user"/>, in ascending order.</summary>
    public ulong[] Of(ulong user) => _byUser.TryGetValue(user, out var set) ? [.. set.Keys.Order()] : [];
}
