using System.Globalization;
using System.Text;

namespace ReadHistory.Server.Cdc;

/// <summary>
/// What the publisher saves after each publish: the source position after the last transaction every stream holds,
/// and each stream's publish count ("seq" of its state hash) at that moment, by dense stream index. Stored as
/// <c>position|seq0,seq1,…</c> ('|' never occurs in a GTID or file:offset position). A new leader continues the epoch
/// only if every stream still holds at least as many publishes as the checkpoint says: a stream with fewer lost its
/// tail (a Redis Cluster failover to a replica that lagged), and nodes must then drop what they hold.
/// </summary>
/// <param name="Position">The source position.</param>
/// <param name="Seqs">The publish count of each stream.</param>
internal sealed record CdcCheckpoint(string Position, IReadOnlyList<long> Seqs)
{
    /// <summary>Formats the checkpoint as stored.</summary>
    public string Format()
    {
        var text = new StringBuilder(Position.Length + 1 + (Seqs.Count * 4)).Append(Position).Append('|');
        for (var i = 0; i < Seqs.Count; i++)
        {
            text.Append(i == 0 ? string.Empty : ",").Append(Seqs[i].ToString(CultureInfo.InvariantCulture));
        }

        return text.ToString();
    }

    /// <summary>Parses a stored checkpoint; null when absent or not in this format (a checkpoint of an earlier version holds a bare position).</summary>
    public static CdcCheckpoint? Parse(string? text)
    {
        var bar = text?.IndexOf('|', StringComparison.Ordinal) ?? -1;
        if (text is null || bar <= 0)
        {
            return null;
        }

        var list = text[(bar + 1)..];
        var parts = list.Length == 0 ? [] : list.Split(',');
        var seqs = new long[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!long.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out seqs[i]))
            {
                return null;
            }
        }

        return new CdcCheckpoint(text[..bar], seqs);
    }
}
