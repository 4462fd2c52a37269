using System.Buffers.Binary;
using System.Text;
using ReadHistory.MySql.Replication.Events;

namespace ReadHistory.MySql.Replication.Tests;

/// <summary>Builds binlog events byte by byte (header, body, CRC32) for tests of hostile input.</summary>
internal static class EventBuilder
{
    public const string ServerVersion = "10.11.19-MariaDB-log";

    /// <summary>An event: 19-byte header, body, CRC32 (unless <paramref name="checksum"/> is false).</summary>
    public static byte[] Event(BinlogEventType type, byte[] body, bool checksum = true, uint? eventSize = null, uint logPosition = 1000, uint serverId = 1)
    {
        var length = BinlogEventHeader.Size + body.Length + (checksum ? 4 : 0);
        var bytes = new byte[length];
        var span = bytes.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span, 1_700_000_000);
        span[4] = (byte)type;
        BinaryPrimitives.WriteUInt32LittleEndian(span[5..], serverId);
        BinaryPrimitives.WriteUInt32LittleEndian(span[9..], eventSize ?? (uint)length);
        BinaryPrimitives.WriteUInt32LittleEndian(span[13..], logPosition);
        body.CopyTo(span[19..]);
        if (checksum)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(span[^4..], System.IO.Hashing.Crc32.HashToUInt32(span[..^4]));
        }

        return bytes;
    }

    /// <summary>A MariaDB 10.11 FORMAT_DESCRIPTION with CRC32 checksums.</summary>
    public static byte[] FormatDescription(byte algorithm = 1, ushort binlogVersion = 4)
    {
        var body = new List<byte>();
        body.AddRange(BitConverter.GetBytes(binlogVersion));
        var version = new byte[50];
        Encoding.ASCII.GetBytes(ServerVersion).CopyTo(version, 0);
        body.AddRange(version);
        body.AddRange(BitConverter.GetBytes(1_700_000_000u));
        body.Add(19);
        var postHeaders = new byte[171];
        postHeaders[(int)BinlogEventType.Query - 1] = 13;
        postHeaders[(int)BinlogEventType.Rotate - 1] = 8;
        postHeaders[(int)BinlogEventType.TableMap - 1] = 8;
        foreach (var type in new[] { 23, 24, 25, 166, 167, 168 })
        {
            postHeaders[type - 1] = 8;
        }

        foreach (var type in new[] { 30, 31, 32, 169, 170, 171 })
        {
            postHeaders[type - 1] = 10;
        }

        postHeaders[(int)BinlogEventType.MariaDbGtid - 1] = 19;
        postHeaders[(int)BinlogEventType.MariaDbGtidList - 1] = 4;
        postHeaders[(int)BinlogEventType.BinlogCheckpoint - 1] = 4;
        body.AddRange(postHeaders);
        body.Add(algorithm);
        var withoutCrc = Event(BinlogEventType.FormatDescription, [.. body, 0, 0, 0, 0], checksum: false);
        BinaryPrimitives.WriteUInt32LittleEndian(withoutCrc.AsSpan()[^4..], System.IO.Hashing.Crc32.HashToUInt32(withoutCrc.AsSpan()[..^4]));
        return withoutCrc;
    }

    /// <summary>A TABLE_MAP body: id 7, `db`.`t`, the given types and metadata.</summary>
    public static byte[] TableMapBody(byte[] types, byte[] metadata, byte[]? optional = null, string schema = "db", string table = "t")
    {
        var body = new List<byte> { 7, 0, 0, 0, 0, 0, 1, 0 };
        body.Add((byte)schema.Length);
        body.AddRange(Encoding.UTF8.GetBytes(schema));
        body.Add(0);
        body.Add((byte)table.Length);
        body.AddRange(Encoding.UTF8.GetBytes(table));
        body.Add(0);
        body.Add((byte)types.Length);
        body.AddRange(types);
        body.Add((byte)metadata.Length);
        body.AddRange(metadata);
        body.AddRange(new byte[(types.Length + 7) / 8].Select(_ => (byte)0xFF));
        body.AddRange(optional ?? []);
        return [.. body];
    }

    /// <summary>A WRITE_ROWS v1 body for table id 7 with every column present.</summary>
    public static byte[] WriteRowsBody(int columns, byte[] rows)
    {
        var body = new List<byte> { 7, 0, 0, 0, 0, 0, 1, 0, (byte)columns };
        body.AddRange(Enumerable.Repeat((byte)0xFF, (columns + 7) / 8));
        body.AddRange(rows);
        return [.. body];
    }
}
