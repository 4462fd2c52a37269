using System.Globalization;
using ReadHistory.MySql.Replication.Protocol;

namespace ReadHistory.MySql.Replication.Events;

/// <summary>
/// MySQL GTID_LOG_EVENT (type 33) and ANONYMOUS_GTID_LOG_EVENT (34): starts a transaction with its source uuid and
/// transaction number.
/// <code>
/// +--------+-----------+---------+---------+----------------+-----------------+---------------------------------+
/// | flags  | source id | gno     | lt_type | last_committed | sequence_number | (commit timestamps, length, ... |
/// | 1 byte | 16 bytes  | 8 bytes | 1 (=2)  |    8 bytes     |     8 bytes     |  in newer versions; ignored)    |
/// +--------+-----------+---------+---------+----------------+-----------------+---------------------------------+
/// </code>
/// Spec: https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Gtid__event.html
/// </summary>
public sealed class MySqlGtidEvent : BinlogEvent
{
    private MySqlGtidEvent(BinlogEventHeader header, byte flags, Guid sourceId, string sourceIdText, ulong transactionNumber, long lastCommitted, long sequenceNumber)
        : base(header)
    {
        Flags = flags;
        SourceId = sourceId;
        SourceIdText = sourceIdText;
        TransactionNumber = transactionNumber;
        LastCommitted = lastCommitted;
        SequenceNumber = sequenceNumber;
    }

    /// <summary>Commit flags (1 = may have changed a non-transactional table).</summary>
    public byte Flags { get; }

    /// <summary>The source server's uuid.</summary>
    public Guid SourceId { get; }

    /// <summary>The source uuid as MySQL prints it (bytes in order, lower-case hex).</summary>
    public string SourceIdText { get; }

    /// <summary>The transaction number (gno).</summary>
    public ulong TransactionNumber { get; }

    /// <summary>Logical clock: last committed (-1 when absent).</summary>
    public long LastCommitted { get; }

    /// <summary>Logical clock: sequence number (-1 when absent).</summary>
    public long SequenceNumber { get; }

    /// <summary>Whether this is an anonymous GTID (gtid_mode=OFF).</summary>
    public bool IsAnonymous => Header.EventType == BinlogEventType.MySqlAnonymousGtid;

    /// <summary>"uuid:gno".</summary>
    public string Gtid => SourceIdText + ":" + TransactionNumber.ToString(CultureInfo.InvariantCulture);

    /// <summary>Parses the event body (after the common header, checksum removed).</summary>
    public static MySqlGtidEvent Create(BinlogEventHeader header, ReadOnlySpan<byte> body)
    {
        var reader = new BinlogSpanReader(body, "GTID_LOG_EVENT");
        var flags = reader.ReadByte("flags");
        var sid = reader.ReadBytes(16, "source uuid");
        var gno = reader.ReadUInt64("gno");
        long lastCommitted = -1;
        long sequenceNumber = -1;
        if (reader.Remaining >= 17 && reader.ReadByte("lt_type") == 2)
        {
            lastCommitted = (long)reader.ReadUInt64("last_committed");
            sequenceNumber = (long)reader.ReadUInt64("sequence_number");
        }

        var text = Convert.ToHexStringLower(sid);
        text = $"{text[..8]}-{text[8..12]}-{text[12..16]}-{text[16..20]}-{text[20..]}";
        return new MySqlGtidEvent(header, flags, new Guid(sid, bigEndian: true), text, gno, lastCommitted, sequenceNumber);
    }

    /// <inheritdoc />
    public override string ToString() => "GTID " + Gtid;
}
