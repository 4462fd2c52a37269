namespace ReadHistory.Core.Routing;

/// <summary>
/// Rendezvous (highest random weight) hashing: every candidate gets a score from (candidate, key) and the
/// highest wins. Removing a candidate moves only the keys it won; the order of the remaining candidates for
/// a key is the failover order.
/// </summary>
public static class RendezvousHash
{
    /// <summary>The score of a candidate for a key; candidates are identified by a stable 64-bit id.</summary>
    public static ulong Score(ulong candidateId, ulong key) => Mix64.Combine(Mix64.Finalize(candidateId), key);

    /// <summary>The index of the winning candidate among the usable ones (<paramref name="usable"/> empty = all), or -1 if none is.</summary>
    public static int Pick(ReadOnlySpan<ulong> candidateIds, ulong key, ReadOnlySpan<bool> usable = default)
    {
        var best = -1;
        var bestScore = 0UL;
        for (var i = 0; i < candidateIds.Length; i++)
        {
            if (!usable.IsEmpty && !usable[i])
            {
                continue;
            }

            var score = Score(candidateIds[i], key);
            if (best < 0 || score > bestScore)
            {
                best = i;
                bestScore = score;
            }
        }

        return best;
    }

    /// <summary>Writes the candidate indexes into <paramref name="order"/> from best to worst for a key (the failover order).</summary>
    public static void Rank(ReadOnlySpan<ulong> candidateIds, ulong key, Span<int> order)
    {
        if (order.Length != candidateIds.Length)
        {
            throw new ArgumentException($"order has {order.Length} places for {candidateIds.Length} candidates", nameof(order));
        }

        Span<ulong> scores = candidateIds.Length <= 64 ? stackalloc ulong[candidateIds.Length] : new ulong[candidateIds.Length];
        for (var i = 0; i < candidateIds.Length; i++)
        {
            order[i] = i;
            scores[i] = Score(candidateIds[i], key);
        }

        // Insertion sort: a slot has a handful of replicas.
        for (var i = 1; i < order.Length; i++)
        {
            var index = order[i];
            var score = scores[index];
            var j = i - 1;
            while (j >= 0 && scores[order[j]] < score)
            {
                order[j + 1] = order[j];
                j--;
            }

            order[j + 1] = index;
        }
    }

    /// <summary>A stable 64-bit id for a string key (a session id or a replica name): FNV-1a over UTF-16 code units, then mixed.</summary>
    public static ulong KeyOf(string value)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in value)
        {
            hash = unchecked((hash ^ c) * 1099511628211UL);
        }

        return Mix64.Finalize(hash);
    }
}
