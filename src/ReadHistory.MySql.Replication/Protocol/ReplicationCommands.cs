using System.Buffers.Binary;
using System.Text;

namespace ReadHistory.MySql.Replication.Protocol;

/// <summary>
/// Payloads of the replication commands (each goes out as a new command, sequence id 0). Spec:
/// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_replication.html and
/// https://mariadb.com/kb/en/com_binlog_dump/.
/// </summary>
internal static class ReplicationCommands
{
    /// <summary>COM_QUERY.</summary>
    public const byte ComQuery = 0x03;

    /// <summary>COM_BINLOG_DUMP.</summary>
    public const byte ComBinlogDump = 0x12;

    /// <summary>COM_REGISTER_SLAVE.</summary>
    public const byte ComRegisterSlave = 0x15;

    /// <summary>COM_BINLOG_DUMP_GTID (MySQL 5.6+).</summary>
    public const byte ComBinlogDumpGtid = 0x1E;

    /// <summary>BINLOG_DUMP_NON_BLOCK: answer EOF at the end of the binlog instead of waiting.</summary>
    public const ushort DumpNonBlock = 0x01;

    /// <summary>BINLOG_THROUGH_GTID (COM_BINLOG_DUMP_GTID): a GTID set follows.</summary>
    public const ushort DumpThroughGtid = 0x04;

    /// <summary>COM_QUERY: 0x03, then the statement text.</summary>
    public static byte[] Query(string sql)
    {
        var bytes = new byte[1 + Encoding.UTF8.GetByteCount(sql)];
        bytes[0] = ComQuery;
        Encoding.UTF8.GetBytes(sql, bytes.AsSpan(1));
        return bytes;
    }

    /// <summary>
    /// COM_REGISTER_SLAVE:
    /// <code>
    /// +------+-----------+----------------------+------------------+----------------------+------+------+-----------+
    /// | 0x15 | server_id | hostname (len1+str)  | user (len1+str)  | password (len1+str)  | port | rank | master_id |
    /// |      |    4      |                      |                  |                      |  2   |  4   |    4      |
    /// +------+-----------+----------------------+------------------+----------------------+------+------+-----------+
    /// </code>
    /// </summary>
    public static byte[] RegisterSlave(uint serverId, string hostName, string user, string password, ushort port)
    {
        var host = Truncate(hostName);
        var userBytes = Truncate(user);
        var passwordBytes = Truncate(password);
        var buffer = new byte[1 + 4 + 1 + host.Length + 1 + userBytes.Length + 1 + passwordBytes.Length + 2 + 4 + 4];
        var span = buffer.AsSpan();
        span[0] = ComRegisterSlave;
        BinaryPrimitives.WriteUInt32LittleEndian(span[1..], serverId);
        var position = 5;
        foreach (var field in new[] { host, userBytes, passwordBytes })
        {
            span[position++] = (byte)field.Length;
            field.CopyTo(span[position..]);
            position += field.Length;
        }

        BinaryPrimitives.WriteUInt16LittleEndian(span[position..], port);
        BinaryPrimitives.WriteUInt32LittleEndian(span[(position + 2)..], 0); // replication rank (unused)
        BinaryPrimitives.WriteUInt32LittleEndian(span[(position + 6)..], 0); // master id (0: the server fills it)
        return buffer;
    }

    /// <summary>
    /// COM_BINLOG_DUMP:
    /// <code>
    /// +------+--------------+-------+-----------+-------------------------------+
    /// | 0x12 | binlog_pos 4 | flags | server_id | binlog file name (rest)       |
    /// |      |              |   2   |     4     | (empty: GTID start, MariaDB)  |
    /// +------+--------------+-------+-----------+-------------------------------+
    /// </code>
    /// </summary>
    public static byte[] BinlogDump(uint position, ushort flags, uint serverId, string fileName)
    {
        var name = Encoding.UTF8.GetBytes(fileName);
        var buffer = new byte[1 + 4 + 2 + 4 + name.Length];
        var span = buffer.AsSpan();
        span[0] = ComBinlogDump;
        BinaryPrimitives.WriteUInt32LittleEndian(span[1..], position);
        BinaryPrimitives.WriteUInt16LittleEndian(span[5..], flags);
        BinaryPrimitives.WriteUInt32LittleEndian(span[7..], serverId);
        name.CopyTo(span[11..]);
        return buffer;
    }

    /// <summary>
    /// COM_BINLOG_DUMP_GTID (MySQL):
    /// <code>
    /// +------+-------+-----------+---------------+-----------+------------+-------------------------------------+
    /// | 0x1e | flags | server_id | name_len (4)  | file name | binlog_pos | if flags &amp; BINLOG_THROUGH_GTID:     |
    /// |      |   2   |     4     |               |           |     8      | data_len (4) + encoded GTID set     |
    /// +------+-------+-----------+---------------+-----------+------------+-------------------------------------+
    /// </code>
    /// </summary>
    public static byte[] BinlogDumpGtid(ushort flags, uint serverId, string fileName, ulong position, MySqlGtidSet? gtids)
    {
        var name = Encoding.UTF8.GetBytes(fileName);
        var set = gtids?.Encode();
        if (set is not null)
        {
            flags |= DumpThroughGtid;
        }

        var buffer = new byte[1 + 2 + 4 + 4 + name.Length + 8 + (set is null ? 0 : 4 + set.Length)];
        var span = buffer.AsSpan();
        span[0] = ComBinlogDumpGtid;
        BinaryPrimitives.WriteUInt16LittleEndian(span[1..], flags);
        BinaryPrimitives.WriteUInt32LittleEndian(span[3..], serverId);
        BinaryPrimitives.WriteUInt32LittleEndian(span[7..], (uint)name.Length);
        name.CopyTo(span[11..]);
        var position2 = 11 + name.Length;
        BinaryPrimitives.WriteUInt64LittleEndian(span[position2..], position);
        position2 += 8;
        if (set is not null)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(span[position2..], (uint)set.Length);
            set.CopyTo(span[(position2 + 4)..]);
        }

        return buffer;
    }

    private static byte[] Truncate(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        return bytes.Length > 255 ? bytes[..255] : bytes;
    }
}
