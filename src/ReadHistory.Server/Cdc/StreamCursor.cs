using System.Globalization;

namespace ReadHistory.Server.Cdc;

/// <summary>
/// Where a replica is in its slot stream: the epoch it is coherent with and the id of the last entry it applied
/// ("0-0" = before the first). A replica keeps it next to its filters (and hands it over on warm start).
/// </summary>
internal readonly record struct StreamCursor(ulong Epoch, string EntryId)
{
    /// <summary>The id before every entry.</summary>
    public const string Beginning = "0-0";

    /// <summary>Compares two stream entry ids ("ms-seq") numerically.</summary>
    public static int CompareIds(string left, string right)
    {
        var (lm, ls) = ParseId(left);
        var (rm, rs) = ParseId(right);
        var c = lm.CompareTo(rm);
        return c != 0 ? c : ls.CompareTo(rs);
    }

    /// <summary>Parses "ms-seq" (a bare "ms" means seq 0).</summary>
    public static (ulong Milliseconds, ulong Sequence) ParseId(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        var dash = id.IndexOf('-', StringComparison.Ordinal);
        var ms = dash < 0 ? id : id[..dash];
        var seq = dash < 0 ? "0" : id[(dash + 1)..];
        if (!ulong.TryParse(ms, NumberStyles.None, CultureInfo.InvariantCulture, out var m)
            || !ulong.TryParse(seq, NumberStyles.None, CultureInfo.InvariantCulture, out var s))
        {
            throw new FormatException($"'{id}' is not a stream entry id (ms-seq)");
        }

        return (m, s);
    }

    /// <inheritdoc />
    public override string ToString() => CdcKeys.FormatEpoch(Epoch) + "/" + EntryId;
}
