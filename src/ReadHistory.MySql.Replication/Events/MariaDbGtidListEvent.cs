using ReadHistory.MySql.Replication.Protocol;

namespace ReadHistory.MySql.Replication.Events;

/// <summary>
/// MariaDB GTID_LIST_EVENT (type 163): the binlog state (last GTID of each domain and server) at the start of a
/// binlog file; sent (artificial) at the start of a GTID dump as well.
/// <code>
/// +------------------------------+--------------------------------------------------+
/// | count (low 28 bits) + flags  | count x ( domain_id 4 | server_id 4 | seq_no 8 )   |
/// | 4 bytes (flags: high 4 bits) |                                                  |
/// +------------------------------+--------------------------------------------------+
/// </code>
/// Spec: https://mariadb.com/kb/en/gtid_list_event/
/// </summary>
public sealed class MariaDbGtidListEvent : BinlogEvent
{
    private MariaDbGtidListEvent(BinlogEventHeader header, byte flags, IReadOnlyList<MariaDbGtid> gtids)
        : base(header)
    {
        Flags = flags;
        Gtids = gtids;
    }

    /// <summary>The list flags (high 4 bits of the count field).</summary>
    public byte Flags { get; }

    /// <summary>The GTIDs in the list.</summary>
    public IReadOnlyList<MariaDbGtid> Gtids { get; }

    /// <summary>Parses the event body (after the common header, checksum removed).</summary>
    public static MariaDbGtidListEvent Create(BinlogEventHeader header, ReadOnlySpan<byte> body)
    {
        var reader = new BinlogSpanReader(body, "GTID_LIST_EVENT");
        var countAndFlags = reader.ReadUInt32("count");
        var count = (int)(countAndFlags & 0x0FFFFFFF);
        if ((long)count * 16 > reader.Remaining)
        {
            throw reader.Error($"{count} GTIDs of 16 bytes, but only {reader.Remaining} byte(s) follow");
        }

        var gtids = new MariaDbGtid[count];
        for (var i = 0; i < count; i++)
        {
            var domain = reader.ReadUInt32("domain_id");
            var server = reader.ReadUInt32("server_id");
            var sequence = reader.ReadUInt64("seq_no");
            gtids[i] = new MariaDbGtid(domain, server, sequence);
        }

        return new MariaDbGtidListEvent(header, (byte)(countAndFlags >> 28), gtids);
    }

    /// <inheritdoc />
    public override string ToString() => "GTID_LIST [" + string.Join(",", Gtids) + "]";
}
