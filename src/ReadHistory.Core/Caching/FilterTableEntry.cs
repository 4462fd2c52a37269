using System.Runtime.CompilerServices;
using ReadHistory.Core.Filters;

namespace ReadHistory.Core.Caching;

/// <summary>
/// One user held by a <see cref="FilterTable"/>, as found by a lookup: either the bare first-layer array of a
/// one-layer filter (the common case: no object of its own) or a <see cref="HeldUser"/>. A value: copying it copies
/// two references.
/// </summary>
public readonly struct FilterTableEntry
{
    private readonly object _held;
    private readonly FilterShape _shape;

    internal FilterTableEntry(object held, FilterShape shape)
    {
        _held = held;
        _shape = shape;
    }

    /// <summary>The user.</summary>
    public ulong UserId => HeldObjects.IsWords(_held, out var words) ? FilterWords.Key(words) : ((HeldUser)_held).UserId;

    /// <summary>True when the user has a filter (false: capped, answered from the database).</summary>
    public bool HasFilter
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => HeldObjects.IsWords(_held) || ((HeldUser)_held).Filter is not null;
    }

    /// <summary>
    /// The user's filter; null when the user is capped. For a user held as a bare array this is a new view over the
    /// shared array (for snapshots and tests): write through <see cref="FilterTable.Add"/>, which can grow it.
    /// </summary>
    public UserFilter? Filter => HeldObjects.IsWords(_held, out var words) ? UserFilter.Attach(words, _shape) : ((HeldUser)_held).Filter;

    /// <summary>True when the user is too large for a filter.</summary>
    public bool IsCapped => !HasFilter;

    /// <summary>True once evicted, removed, or replaced by a grown filter.</summary>
    public bool Removed => HeldObjects.IsWords(_held, out var words) ? FilterWords.Has(words, FilterWords.DetachedFlag) : ((HeldUser)_held).Removed;

    /// <summary>The CLOCK bit: set by a lookup, cleared as the hand passes.</summary>
    public bool Referenced => HeldObjects.IsWords(_held, out var words) ? FilterWords.Has(words, FilterWords.ReferencedFlag) : ((HeldUser)_held).Referenced;

    /// <summary>What the table holds: a first-layer array or a <see cref="HeldUser"/>.</summary>
    internal object Held => _held;

    /// <summary>Clears the CLOCK bit (as the hand does), so the user ranks cold until its next lookup; returns whether it was set.</summary>
    public bool ClearReference() => HeldObjects.IsWords(_held, out var words) ? FilterWords.Clear(words, FilterWords.ReferencedFlag) : ((HeldUser)_held).ClearReference();

    /// <summary>Starts loading this entry's first cache line, for walks over many entries (a hint: never faults, may do nothing).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Prefetch() => MemoryHints.Prefetch(_held);

    /// <summary>Checks ids of one type into a read bitmap (see <see cref="UserFilter.CheckMany(ushort, ReadOnlySpan{ulong}, Span{byte})"/>); the user must have a filter.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int CheckMany(ushort contentType, ReadOnlySpan<ulong> contentIds, Span<byte> bitmap) =>
        HeldObjects.IsWords(_held, out var words)
            ? UserFilter.CheckHeld(words, _shape, contentType, contentIds, bitmap)
            : ((HeldUser)_held).Filter!.CheckMany(contentType, contentIds, bitmap);

    /// <summary>True when this entry holds <paramref name="filter"/> (its first layer, for a bare array).</summary>
    public bool Holds(UserFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        return HeldObjects.IsWords(_held, out var words) ? ReferenceEquals(words, filter.FirstLayer) : ReferenceEquals(((HeldUser)_held).Filter, filter);
    }
}
