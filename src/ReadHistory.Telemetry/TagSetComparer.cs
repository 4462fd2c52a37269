namespace ReadHistory.Telemetry;

/// <summary>
/// Compares tag sets, and a measurement's tag span with a stored set, so that the hot path finds its
/// series through <c>ConcurrentDictionary.GetAlternateLookup</c> without allocating a key.
/// </summary>
internal sealed class TagSetComparer :
    IEqualityComparer<TagSet>,
    IAlternateEqualityComparer<ReadOnlySpan<KeyValuePair<string, object?>>, TagSet>
{
    /// <summary>The one instance; the comparer has no state.</summary>
    public static TagSetComparer Instance { get; } = new();

    /// <inheritdoc />
    public bool Equals(TagSet? x, TagSet? y) => x is null ? y is null : y is not null && x.SameAs(y);

    /// <inheritdoc />
    public int GetHashCode(TagSet obj) => obj.GetHashCode();

    /// <inheritdoc />
    public bool Equals(ReadOnlySpan<KeyValuePair<string, object?>> alternate, TagSet other) => other.Matches(alternate);

    /// <inheritdoc />
    public int GetHashCode(ReadOnlySpan<KeyValuePair<string, object?>> alternate) => TagSet.HashOf(alternate);

    /// <inheritdoc />
    public TagSet Create(ReadOnlySpan<KeyValuePair<string, object?>> alternate) => TagSet.Create(alternate);
}
