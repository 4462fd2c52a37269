namespace ReadHistory.MySql.Replication.Events;

/// <summary>One decoded binlog event. Subclasses carry the fields of each event type.</summary>
public abstract class BinlogEvent
{
    /// <summary>Creates the event with its header.</summary>
    protected BinlogEvent(BinlogEventHeader header) => Header = header;

    /// <summary>The common header.</summary>
    public BinlogEventHeader Header { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Header.EventType} (server {Header.ServerId}, next position {Header.LogPosition})";
}

/// <summary>
/// An event of a type this reader does not decode (statement-based INTVAR/RAND/USER_VAR, MySQL's
/// PREVIOUS_GTIDS, future types...). It is skipped safely: its size comes from the header.
/// </summary>
public sealed class UnknownEvent : BinlogEvent
{
    /// <summary>Creates the event.</summary>
    public UnknownEvent(BinlogEventHeader header, int bodyLength)
        : base(header) => BodyLength = bodyLength;

    /// <summary>Bytes after the header, checksum excluded.</summary>
    public int BodyLength { get; }
}
