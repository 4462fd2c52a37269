using System.Text;
using ReadHistory.MySql.Replication.Protocol;

namespace ReadHistory.MySql.Replication.Events;

/// <summary>
/// HEARTBEAT_LOG_EVENT (type 27) and MySQL's HEARTBEAT_LOG_EVENT_V2 (41): sent by the server when it had nothing
/// to send for the heartbeat period; never in a binlog file.
/// <code>
/// v1: +-------------------------------------------+   header log_pos = current position
///     | current binlog file name (rest of event)  |
///     +-------------------------------------------+
/// v2: repeated ( field type (lenenc) | length (lenenc) | value ): 1 = file name, 2 = position (lenenc)
/// </code>
/// Spec: https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Heartbeat__event.html
/// </summary>
public sealed class HeartbeatEvent : BinlogEvent
{
    private HeartbeatEvent(BinlogEventHeader header, string fileName, ulong position)
        : base(header)
    {
        FileName = fileName;
        Position = position;
    }

    /// <summary>The binlog file the server is at.</summary>
    public string FileName { get; }

    /// <summary>The position the server is at in that file.</summary>
    public ulong Position { get; }

    /// <summary>Parses the event body (after the common header, checksum removed).</summary>
    public static HeartbeatEvent Create(BinlogEventHeader header, ReadOnlySpan<byte> body)
    {
        if (header.EventType != BinlogEventType.HeartbeatV2)
        {
            var nul = body.IndexOf((byte)0);
            return new HeartbeatEvent(header, Encoding.UTF8.GetString(nul >= 0 ? body[..nul] : body), header.LogPosition);
        }

        var reader = new BinlogSpanReader(body, "HEARTBEAT_LOG_EVENT_V2");
        var fileName = string.Empty;
        ulong position = header.LogPosition;
        while (!reader.IsAtEnd)
        {
            var type = reader.ReadLengthEncoded("field type");
            var value = reader.ReadLengthEncodedBytes("field value");
            if (type == 1)
            {
                fileName = Encoding.UTF8.GetString(value);
            }
            else if (type == 2)
            {
                var valueReader = new BinlogSpanReader(value, "HEARTBEAT_LOG_EVENT_V2 position");
                position = valueReader.ReadLengthEncoded("log position");
            }
        }

        return new HeartbeatEvent(header, fileName, position);
    }

    /// <inheritdoc />
    public override string ToString() => $"HEARTBEAT at {FileName}:{Position}";
}

/// <summary>
/// MariaDB BINLOG_CHECKPOINT_EVENT (type 161): the oldest binlog file crash recovery still needs.
/// <code>
/// +------------------------+--------------------------+
/// | file name length (4)   | file name                |
/// +------------------------+--------------------------+
/// </code>
/// Spec: https://mariadb.com/kb/en/binlog_checkpoint_event/
/// </summary>
public sealed class BinlogCheckpointEvent : BinlogEvent
{
    private BinlogCheckpointEvent(BinlogEventHeader header, string fileName)
        : base(header) => FileName = fileName;

    /// <summary>The binlog file name.</summary>
    public string FileName { get; }

    /// <summary>Parses the event body (after the common header, checksum removed).</summary>
    public static BinlogCheckpointEvent Create(BinlogEventHeader header, ReadOnlySpan<byte> body)
    {
        var reader = new BinlogSpanReader(body, "BINLOG_CHECKPOINT_EVENT");
        var length = reader.ReadUInt32("file name length");
        if (length > (uint)reader.Remaining)
        {
            throw reader.Error($"a file name of {length} byte(s), but only {reader.Remaining} follow");
        }

        return new BinlogCheckpointEvent(header, reader.ReadString((int)length, "file name"));
    }

    /// <inheritdoc />
    public override string ToString() => "BINLOG_CHECKPOINT " + FileName;
}

/// <summary>
/// MariaDB ANNOTATE_ROWS_EVENT (type 160): the statement behind the rows events that follow
/// (binlog_annotate_row_events). The body is the statement text.
/// Spec: https://mariadb.com/kb/en/annotate_rows_event/
/// </summary>
public sealed class AnnotateRowsEvent : BinlogEvent
{
    private AnnotateRowsEvent(BinlogEventHeader header, string sql)
        : base(header) => Sql = sql;

    /// <summary>The statement text.</summary>
    public string Sql { get; }

    /// <summary>Parses the event body (after the common header, checksum removed).</summary>
    public static AnnotateRowsEvent Create(BinlogEventHeader header, ReadOnlySpan<byte> body) =>
        new(header, Encoding.UTF8.GetString(body));

    /// <inheritdoc />
    public override string ToString() => "ANNOTATE_ROWS " + Sql;
}

/// <summary>
/// STOP_EVENT (type 3): the server shut down; nothing follows in this binlog file. No body.
/// Spec: https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Stop__event.html
/// </summary>
public sealed class StopEvent : BinlogEvent
{
    private StopEvent(BinlogEventHeader header)
        : base(header)
    {
    }

    /// <summary>Creates the event; the body is ignored (empty in every known version).</summary>
    public static StopEvent Create(BinlogEventHeader header, ReadOnlySpan<byte> body)
    {
        _ = body;
        return new StopEvent(header);
    }

    /// <inheritdoc />
    public override string ToString() => "STOP";
}
