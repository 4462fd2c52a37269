using System.Globalization;
using System.Text;

namespace ReadHistory.Telemetry;

/// <summary>
/// The tags of one series, sorted by name with duplicates removed, and their rendered Prometheus labels.
/// Equality ignores tag order, so <c>Add(1, a, b)</c> and <c>Add(1, b, a)</c> land in the same series.
/// </summary>
internal sealed class TagSet
{
    private readonly KeyValuePair<string, object?>[] _tags;
    private readonly int _hash;

    private TagSet(KeyValuePair<string, object?>[] tags)
    {
        _tags = tags;
        _hash = HashOf(tags);
        Labels = Render(tags);
    }

    /// <summary>The series without tags.</summary>
    public static TagSet Empty { get; } = new([]);

    /// <summary>The labels as <c>name="value",...</c> (escaped, no braces); empty when there are none.</summary>
    public string Labels { get; }

    /// <summary>Copies tags from a measurement; the last value wins when a name repeats.</summary>
    public static TagSet Create(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.IsEmpty)
        {
            return Empty;
        }

        var byName = new SortedDictionary<string, object?>(StringComparer.Ordinal);
        foreach (var tag in tags)
        {
            byName[tag.Key] = tag.Value;
        }

        return new TagSet([.. byName]);
    }

    /// <summary>An order-independent hash, equal for a span and the set created from it.</summary>
    public static int HashOf(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var hash = tags.Length;
        foreach (var tag in tags)
        {
            // A sum does not depend on order; each term still mixes the name with the value.
            hash = unchecked(hash + HashCode.Combine(StringComparer.Ordinal.GetHashCode(tag.Key), tag.Value));
        }

        return hash;
    }

    /// <summary>Whether a measurement's tags, in any order, are exactly this set.</summary>
    public bool Matches(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.Length != _tags.Length)
        {
            return false;
        }

        foreach (var tag in tags)
        {
            if (!Contains(tag))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Whether two sets hold the same tags.</summary>
    public bool SameAs(TagSet other) => ReferenceEquals(this, other) || Matches(other._tags);

    /// <inheritdoc />
    public override int GetHashCode() => _hash;

    private bool Contains(KeyValuePair<string, object?> tag)
    {
        foreach (var own in _tags)
        {
            if (string.Equals(own.Key, tag.Key, StringComparison.Ordinal))
            {
                return Equals(own.Value, tag.Value);
            }
        }

        return false;
    }

    private static string Render(KeyValuePair<string, object?>[] tags)
    {
        if (tags.Length == 0)
        {
            return string.Empty;
        }

        var text = new StringBuilder();
        foreach (var tag in tags)
        {
            if (text.Length > 0)
            {
                text.Append(',');
            }

            text.Append(PrometheusNames.LabelName(tag.Key)).Append("=\"");
            PrometheusTextFormatter.AppendEscapedLabelValue(text, FormatValue(tag.Value));
            text.Append('"');
        }

        return text.ToString();
    }

    private static string FormatValue(object? value) => value switch
    {
        null => string.Empty,
        string text => text,
        bool flag => flag ? "true" : "false",
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };
}
