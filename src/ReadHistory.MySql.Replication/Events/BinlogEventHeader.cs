using ReadHistory.MySql.Replication.Protocol;

namespace ReadHistory.MySql.Replication.Events;

/// <summary>
/// The v4 common event header, 19 bytes, little-endian:
/// <code>
/// +-----------+------+-----------+------------+---------+-------+
/// | timestamp | type | server_id | event_size | log_pos | flags |
/// |  4 bytes  |  1   |     4     |     4      |    4    |   2   |
/// +-----------+------+-----------+------------+---------+-------+
/// </code>
/// event_size counts the whole event (header, body and checksum); log_pos is the position of the next event in
/// the binlog file (0 for artificial events). Spec:
/// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_replication_binlog_event.html#sect_protocol_replication_binlog_event_header
/// </summary>
public readonly record struct BinlogEventHeader(
    uint Timestamp,
    BinlogEventType EventType,
    uint ServerId,
    uint EventSize,
    uint LogPosition,
    ushort Flags)
{
    /// <summary>Length of the v4 header.</summary>
    public const int Size = 19;

    /// <summary>LOG_EVENT_BINLOG_IN_USE_F: set in the FORMAT_DESCRIPTION of a binlog file still being written.</summary>
    public const ushort BinlogInUseFlag = 0x0001;

    /// <summary>LOG_EVENT_ARTIFICIAL_F: made up by the server for the replication stream (e.g. the first ROTATE).</summary>
    public const ushort ArtificialFlag = 0x0020;

    /// <summary>The event's time (seconds since the Unix epoch, server clock) as UTC.</summary>
    public DateTimeOffset Time => DateTimeOffset.FromUnixTimeSeconds(Timestamp);

    /// <summary>Whether the server made this event up for the stream (not in the binlog file).</summary>
    public bool IsArtificial => (Flags & ArtificialFlag) != 0;

    /// <summary>Parses a header from the first 19 bytes of an event; checks that event_size is sane.</summary>
    public static BinlogEventHeader Create(ReadOnlySpan<byte> eventBytes)
    {
        var reader = new BinlogSpanReader(eventBytes, "event header");
        var header = new BinlogEventHeader(
            reader.ReadUInt32("timestamp"),
            (BinlogEventType)reader.ReadByte("type"),
            reader.ReadUInt32("server_id"),
            reader.ReadUInt32("event_size"),
            reader.ReadUInt32("log_pos"),
            reader.ReadUInt16("flags"));
        if (header.EventSize < Size)
        {
            throw new BinlogFormatException(
                $"event header: expected event_size of at least {Size}, but it is {header.EventSize} ({header.EventType} event).");
        }

        return header;
    }
}
