using ReadHistory.MySql.Replication.Protocol;

namespace ReadHistory.MySql.Replication.Events;

/// <summary>
/// XID_EVENT (type 16): the commit of a transaction of a transactional engine (InnoDB, MyRocks).
/// <code>
/// +-----------------------+
/// | xid (8 bytes, LE)     |
/// +-----------------------+
/// </code>
/// Spec: https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Xid__event.html
/// </summary>
public sealed class XidEvent : BinlogEvent
{
    private XidEvent(BinlogEventHeader header, ulong xid)
        : base(header) => Xid = xid;

    /// <summary>The transaction id of the commit.</summary>
    public ulong Xid { get; }

    /// <summary>Parses the event body (after the common header, checksum removed).</summary>
    public static XidEvent Create(BinlogEventHeader header, ReadOnlySpan<byte> body)
    {
        var reader = new BinlogSpanReader(body, "XID_EVENT");
        return new XidEvent(header, reader.ReadUInt64("xid"));
    }

    /// <inheritdoc />
    public override string ToString() => $"XID {Xid}";
}
