using System.Globalization;

namespace ReadHistory.MySql.Replication;

/// <summary>
/// A MySQL GTID set ("3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5:11-18,..."): for each source uuid, intervals of
/// transaction numbers. Used to start a MySQL dump with COM_BINLOG_DUMP_GTID.
/// </summary>
public sealed class MySqlGtidSet
{
    private readonly SortedDictionary<Guid, List<(ulong Start, ulong End)>> _intervals;

    private MySqlGtidSet(SortedDictionary<Guid, List<(ulong Start, ulong End)>> intervals) => _intervals = intervals;

    /// <summary>Source uuids and their inclusive intervals.</summary>
    public IEnumerable<(Guid SourceId, IReadOnlyList<(ulong Start, ulong End)> Intervals)> Sources =>
        _intervals.Select(pair => (pair.Key, (IReadOnlyList<(ulong, ulong)>)pair.Value));

    /// <summary>Parses "uuid:1-5:7,uuid2:1-3" (whitespace and newlines allowed, empty text is the empty set).</summary>
    public static MySqlGtidSet Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var map = new SortedDictionary<Guid, List<(ulong, ulong)>>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var pieces = part.Split(':', StringSplitOptions.TrimEntries);
            if (pieces.Length < 2 || !Guid.TryParse(pieces[0], out var sid))
            {
                throw new FormatException($"'{part}' is not uuid:interval[:interval...].");
            }

            if (!map.TryGetValue(sid, out var list))
            {
                map[sid] = list = [];
            }

            foreach (var interval in pieces.AsSpan(1))
            {
                var dash = interval.IndexOf('-', StringComparison.Ordinal);
                var start = ulong.Parse(dash < 0 ? interval : interval[..dash], NumberStyles.None, CultureInfo.InvariantCulture);
                var end = dash < 0 ? start : ulong.Parse(interval[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture);
                if (start == 0 || end < start)
                {
                    throw new FormatException($"'{interval}' is not a valid GTID interval (1-based, start <= end).");
                }

                list.Add((start, end));
            }
        }

        return new MySqlGtidSet(map);
    }

    /// <summary>
    /// The binary form COM_BINLOG_DUMP_GTID carries: n_sids (8), then per source: uuid (16 bytes, in text order),
    /// n_intervals (8), intervals as (start, end + 1) pairs of 8-byte integers.
    /// </summary>
    public byte[] Encode()
    {
        var size = 8 + _intervals.Sum(pair => 16 + 8 + (pair.Value.Count * 16));
        var buffer = new byte[size];
        var span = buffer.AsSpan();
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(span, (ulong)_intervals.Count);
        var position = 8;
        foreach (var (sid, list) in _intervals)
        {
            sid.TryWriteBytes(span[position..], bigEndian: true, out _);
            position += 16;
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(span[position..], (ulong)list.Count);
            position += 8;
            foreach (var (start, end) in list)
            {
                System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(span[position..], start);
                System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(span[(position + 8)..], end + 1);
                position += 16;
            }
        }

        return buffer;
    }

    /// <inheritdoc />
    public override string ToString() => string.Join(",", _intervals.Select(pair =>
        pair.Key.ToString("D", CultureInfo.InvariantCulture) + string.Concat(pair.Value.Select(i =>
            i.Start == i.End ? string.Create(CultureInfo.InvariantCulture, $":{i.Start}") : string.Create(CultureInfo.InvariantCulture, $":{i.Start}-{i.End}")))));
}
