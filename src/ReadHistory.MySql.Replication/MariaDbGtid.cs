using System.Globalization;

namespace ReadHistory.MySql.Replication;

/// <summary>A MariaDB global transaction id: replication domain, originating server id, sequence number ("0-1-42").</summary>
public readonly record struct MariaDbGtid(uint DomainId, uint ServerId, ulong Sequence)
{
    /// <summary>Parses "domain-server-sequence".</summary>
    public static MariaDbGtid Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParse(text.AsSpan(), out var gtid)
            ? gtid
            : throw new FormatException($"'{text}' is not a MariaDB GTID (expected domain-server-sequence, e.g. 0-1-42).");
    }

    /// <summary>Parses "domain-server-sequence"; false when the text is not one.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out MariaDbGtid gtid)
    {
        gtid = default;
        text = text.Trim();
        var first = text.IndexOf('-');
        if (first <= 0)
        {
            return false;
        }

        var rest = text[(first + 1)..];
        var second = rest.IndexOf('-');
        if (second <= 0)
        {
            return false;
        }

        if (!uint.TryParse(text[..first], NumberStyles.None, CultureInfo.InvariantCulture, out var domain)
            || !uint.TryParse(rest[..second], NumberStyles.None, CultureInfo.InvariantCulture, out var server)
            || !ulong.TryParse(rest[(second + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var sequence))
        {
            return false;
        }

        gtid = new MariaDbGtid(domain, server, sequence);
        return true;
    }

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{DomainId}-{ServerId}-{Sequence}");
}

/// <summary>
/// A MariaDB GTID position (gtid_slave_pos / @slave_connect_state): the last GTID applied in each replication
/// domain, written "0-1-42,1-2-7". Immutable; <see cref="With"/> returns an updated copy.
/// </summary>
public sealed class MariaDbGtidPosition : IEquatable<MariaDbGtidPosition>
{
    private readonly SortedDictionary<uint, MariaDbGtid> _byDomain;

    private MariaDbGtidPosition(SortedDictionary<uint, MariaDbGtid> byDomain) => _byDomain = byDomain;

    /// <summary>The empty position (from the start of the oldest binlog).</summary>
    public static MariaDbGtidPosition Empty { get; } = new(new SortedDictionary<uint, MariaDbGtid>());

    /// <summary>The last GTID of each domain, in domain order.</summary>
    public IEnumerable<MariaDbGtid> Gtids => _byDomain.Values;

    /// <summary>Whether no domain has a GTID.</summary>
    public bool IsEmpty => _byDomain.Count == 0;

    /// <summary>Parses "0-1-42,1-2-7" (empty text is the empty position). One GTID per domain.</summary>
    public static MariaDbGtidPosition Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var map = new SortedDictionary<uint, MariaDbGtid>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var gtid = MariaDbGtid.Parse(part);
            if (!map.TryAdd(gtid.DomainId, gtid))
            {
                throw new FormatException($"'{text}' has two GTIDs for domain {gtid.DomainId}.");
            }
        }

        return new MariaDbGtidPosition(map);
    }

    /// <summary>The GTID of a domain, if any.</summary>
    public MariaDbGtid? this[uint domainId] => _byDomain.TryGetValue(domainId, out var gtid) ? gtid : null;

    /// <summary>This position with <paramref name="gtid"/> as the last GTID of its domain.</summary>
    public MariaDbGtidPosition With(MariaDbGtid gtid)
    {
        var copy = new SortedDictionary<uint, MariaDbGtid>(_byDomain) { [gtid.DomainId] = gtid };
        return new MariaDbGtidPosition(copy);
    }

    /// <inheritdoc />
    public override string ToString() => string.Join(",", _byDomain.Values);

    /// <inheritdoc />
    public bool Equals(MariaDbGtidPosition? other) =>
        other is not null && _byDomain.Count == other._byDomain.Count && _byDomain.All(pair => other._byDomain.TryGetValue(pair.Key, out var g) && g == pair.Value);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as MariaDbGtidPosition);

    /// <inheritdoc />
    public override int GetHashCode() => ToString().GetHashCode(StringComparison.Ordinal);
}

/// <summary>A position in the source's binlog: file name and byte offset (of the next event).</summary>
public readonly record struct BinlogPosition(string FileName, ulong Position)
{
    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{FileName}:{Position}");
}
