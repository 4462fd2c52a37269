using ReadHistory.Core.Routing;

namespace ReadHistory.Server.Proxy;

/// <summary>One cache pool: its slots (slot = JumpConsistentHash(user, slots)) and every replica for passthrough.</summary>
internal sealed class PoolRoute
{
    private SlotRoute[] _slots = [];

    /// <summary>Creates an empty pool; the table fills its slots.</summary>
    public PoolRoute(string name) => Name = name;

    /// <summary>The pool's name (metric label, error messages).</summary>
    public string Name { get; }

    /// <summary>The slots in order.</summary>
    public IReadOnlyList<SlotRoute> Slots => _slots;

    /// <summary>The user's slot.</summary>
    public SlotRoute SlotOf(ulong userId) => _slots[_slots.Length == 1 ? 0 : JumpConsistentHash.Bucket(userId, _slots.Length)];

    /// <summary>
    /// A usable replica of another slot than <paramref name="own"/> to answer in passthrough, best HRW score for
    /// <paramref name="key"/> first, skipping the ones already tried; null when none is left.
    /// </summary>
    public ReplicaEndpoint? PassthroughCandidate(SlotRoute own, ulong key, ReadOnlySpan<ReplicaEndpoint?> tried)
    {
        ReplicaEndpoint? best = null;
        var bestScore = 0UL;
        foreach (var slot in _slots)
        {
            if (ReferenceEquals(slot, own))
            {
                continue;
            }

            foreach (var replica in slot.Replicas)
            {
                if (!replica.IsUsable || Contains(tried, replica))
                {
                    continue;
                }

                var score = RendezvousHash.Score(replica.Id, key);
                if (best is null || score > bestScore)
                {
                    best = replica;
                    bestScore = score;
                }
            }
        }

        return best;
    }

    private static bool Contains(ReadOnlySpan<ReplicaEndpoint?> tried, ReplicaEndpoint replica)
    {
        foreach (var t in tried)
        {
            if (ReferenceEquals(t, replica))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Sets the slots once, while the table is being built.</summary>
    internal void SetSlots(SlotRoute[] slots) => _slots = slots;
}
