using System.IO.Compression;

namespace ReadHistory.MySql.Replication.Protocol;

/// <summary>
/// MariaDB's compressed binlog payloads (log_bin_compress): one header byte <c>0x80 | n</c> (n = 1..4, low three
/// bits), then the uncompressed length in n big-endian bytes, then a zlib stream.
/// See MariaDB sql/log_event.cc binlog_buf_uncompress.
/// </summary>
internal static class MariaDbCompression
{
    /// <summary>Largest uncompressed payload accepted (1 GiB, as max_allowed_packet).</summary>
    private const int MaxLength = 1 << 30;

    public static byte[] Decompress(ReadOnlySpan<byte> compressed, string context)
    {
        var reader = new BinlogSpanReader(compressed, context + " compressed payload");
        var head = reader.ReadByte("compression header");
        var lengthBytes = head & 0x07;
        if ((head & 0x70) != 0 || lengthBytes is < 1 or > 4)
        {
            throw reader.Error($"a zlib header byte 0x8n with n in 1..4, but got 0x{head:X2}");
        }

        var length = 0L;
        foreach (var b in reader.ReadBytes(lengthBytes, "uncompressed length"))
        {
            length = (length << 8) | b;
        }

        // zlib cannot expand more than about 1032:1, so a larger claim is corrupt (and must not allocate).
        var limit = Math.Min(MaxLength, ((long)reader.Remaining * 1100) + 1024);
        if (length > limit)
        {
            throw reader.Error($"an uncompressed length of at most {limit} for {reader.Remaining} compressed byte(s), but it is {length}");
        }

        var output = new byte[length];
        using var input = new MemoryStream(reader.Rest.ToArray(), writable: false);
        try
        {
            using var zlib = new ZLibStream(input, CompressionMode.Decompress);
            zlib.ReadExactly(output);
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException)
        {
            // InvalidDataException for a bad zlib header or checksum; IOException's EndOfStreamException for a stream that
            // ends early, its ZLibException for a deflate block zlib itself refuses (Z_DATA_ERROR surfaces as that).
            throw new BinlogFormatException($"{context}: expected a zlib stream of {length} byte(s), but it does not decompress: {ex.Message}", ex);
        }

        return output;
    }
}
