using System.Runtime.CompilerServices;
using ReadHistory.Core.Filters;

namespace ReadHistory.Core.Caching;

/// <summary>Warm start: adopting a peer's index layout, and installs that fit in what is left without evicting.</summary>
public sealed partial class FilterTable
{
    /// <summary>The salt of the index hash: the table holds users in the order of their hash under it (see <see cref="Home"/>).</summary>
    public ulong LayoutSalt => Volatile.Read(ref _salt);

    /// <summary>
    /// Takes a peer's index layout for a warm start from it: while this table holds nothing, hashes users under
    /// <paramref name="salt"/> and sizes the table for <paramref name="users"/> at once, so that users arriving in the
    /// peer's table order each land next to the one before (sequential memory, no table growth) rather than at a random
    /// slot. False, changing nothing, when the table holds (or held) anyone or the table would not fit in the budget.
    /// Meant for a node that does not serve yet: a lookup racing with it may miss (the caller then rebuilds the user).
    /// </summary>
    public bool TryAdoptLayout(ulong salt, int users)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(users);
        lock (_gate)
        {
            var size = SlotsFor(users);
            if (_live != 0 || _tombstones != 0 || _bytes + TableBytes(size) - TableBytes(_slots.Length) > BudgetBytes)
            {
                return false;
            }

            Volatile.Write(ref _salt, salt);
            _bytes += TableBytes(size) - TableBytes(_slots.Length);
            _hand = 0;
            Volatile.Write(ref _slots, new object?[size]);
            return true;
        }
    }

    /// <summary>
    /// Installs a warm-started filter only if the user is not held and it fits in what is left of the budget: unlike
    /// <see cref="Install(ulong, UserFilter)"/> it evicts nothing, because what arrives later in a warm start is colder
    /// than what is held already.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public WarmStartInstallOutcome TryInstallWarm(ulong userId, UserFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        if (filter.IsCapped)
        {
            return WarmStartInstallOutcome.Skipped;
        }

        lock (_gate)
        {
            if (FindLocked(userId) >= 0)
            {
                return WarmStartInstallOutcome.Skipped;
            }

            var bytes = HoldBytes(filter);
            if (_bytes + bytes + GrowthBytes() > BudgetBytes)
            {
                return WarmStartInstallOutcome.BudgetFull;
            }

            var (held, charged) = Hold(userId, filter);
            InsertLocked(userId, held, charged, evict: false);
            return WarmStartInstallOutcome.Installed;
        }
    }
}
