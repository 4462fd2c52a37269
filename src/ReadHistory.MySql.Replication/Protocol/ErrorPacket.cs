using System.Text;

namespace ReadHistory.MySql.Replication.Protocol;

/// <summary>
/// An ERR packet, as an exception. Layout (https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_err_packet.html):
/// <code>
/// +------+------------+----------------------------+---------------+
/// | 0xFF | error_code | '#' + sql_state (optional) | message (EOF) |
/// |  1   |     2      |          1 + 5             |     rest      |
/// +------+------------+----------------------------+---------------+
/// </code>
/// </summary>
internal static class ErrorPacket
{
    /// <summary>Whether a payload is an ERR packet.</summary>
    public static bool IsError(ReadOnlySpan<byte> payload) => payload.Length > 0 && payload[0] == 0xFF;

    /// <summary>Parses an ERR payload (starting with its 0xFF header) into the exception it reports.</summary>
    public static ReplicationException ToException(ReadOnlySpan<byte> payload)
    {
        var reader = new PacketReader(payload);
        if (reader.ReadByte() != 0xFF)
        {
            throw new ReplicationProtocolException("expected an ERR packet (0xFF)");
        }

        int code = reader.ReadUInt16();
        string? state = null;
        if (reader.Remaining >= 6 && reader.PeekByte() == (byte)'#')
        {
            reader.Skip(1);
            state = Encoding.ASCII.GetString(reader.ReadSpan(5));
        }

        return new ReplicationException(code, state, Encoding.UTF8.GetString(reader.ReadToEnd()));
    }
}
