using System.Text;
using ReadHistory.MySql.Replication.Protocol;

namespace ReadHistory.MySql.Replication.Events;

/// <summary>
/// ROTATE_EVENT (type 4): the events that follow come from another binlog file. Written at the end of a file and
/// sent first (artificial, log_pos 0) by the server at the start of a dump.
/// <code>
/// +-----------------------+------------------------------+
/// | position (post-hdr)   | next binlog file name        |
/// | 8 bytes little-endian | rest of the event (no NUL)   |
/// +-----------------------+------------------------------+
/// </code>
/// Spec: https://dev.mysql.com/doc/dev/mysql-server/latest/classmysql_1_1binlog_1_1event_1_1Rotate__event.html
/// </summary>
public sealed class RotateEvent : BinlogEvent
{
    private RotateEvent(BinlogEventHeader header, ulong position, string fileName)
        : base(header)
    {
        Position = position;
        FileName = fileName;
    }

    /// <summary>Position in the next file where the stream continues (4 for a fresh file).</summary>
    public ulong Position { get; }

    /// <summary>Name of the next binlog file (e.g. "binlog.000002").</summary>
    public string FileName { get; }

    /// <summary>Parses the event body (after the common header, checksum removed).</summary>
    public static RotateEvent Create(BinlogEventHeader header, ReadOnlySpan<byte> body)
    {
        var reader = new BinlogSpanReader(body, "ROTATE_EVENT");
        var position = reader.ReadUInt64("position");
        var name = reader.Rest;
        var nul = name.IndexOf((byte)0);
        if (nul >= 0)
        {
            name = name[..nul];
        }

        if (name.IsEmpty)
        {
            throw new BinlogFormatException("ROTATE_EVENT: expected a binlog file name after the position, but it is empty.");
        }

        return new RotateEvent(header, position, Encoding.UTF8.GetString(name));
    }

    /// <inheritdoc />
    public override string ToString() => $"ROTATE to {FileName}:{Position}";
}
