using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace ReadHistory.MySql.Replication;

/// <summary>
/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, initial value and final XOR 0xFFFFFFFF), the checksum
/// MySQL and MariaDB append to binlog events when binlog_checksum=CRC32. Slice-by-8: eight 256-entry tables,
/// eight input bytes per step.
/// </summary>
public static class Crc32
{
    private const uint Polynomial = 0xEDB88320u;
    private static readonly uint[] Table = BuildTable();

    /// <summary>The CRC-32 of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => Append(0, data);

    /// <summary>Continues a CRC-32: <c>Append(Compute(a), b) == Compute(a + b)</c>.</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        var table = Table;
        var c = ~crc;
        ref var tableRef = ref table[0];
        while (data.Length >= 8)
        {
            var one = BinaryPrimitives.ReadUInt32LittleEndian(data) ^ c;
            var two = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
            c = Unsafe.Add(ref tableRef, (7 * 256) + (int)(one & 0xFF))
                ^ Unsafe.Add(ref tableRef, (6 * 256) + (int)((one >> 8) & 0xFF))
                ^ Unsafe.Add(ref tableRef, (5 * 256) + (int)((one >> 16) & 0xFF))
                ^ Unsafe.Add(ref tableRef, (4 * 256) + (int)(one >> 24))
                ^ Unsafe.Add(ref tableRef, (3 * 256) + (int)(two & 0xFF))
                ^ Unsafe.Add(ref tableRef, (2 * 256) + (int)((two >> 8) & 0xFF))
                ^ Unsafe.Add(ref tableRef, 256 + (int)((two >> 16) & 0xFF))
                ^ Unsafe.Add(ref tableRef, (int)(two >> 24));
            data = data[8..];
        }

        foreach (var b in data)
        {
            c = Unsafe.Add(ref tableRef, (int)((c ^ b) & 0xFF)) ^ (c >> 8);
        }

        return ~c;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[8 * 256];
        for (uint i = 0; i < 256; i++)
        {
            var c = i;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? Polynomial ^ (c >> 1) : c >> 1;
            }

            table[i] = c;
        }

        for (var slice = 1; slice < 8; slice++)
        {
            for (var i = 0; i < 256; i++)
            {
                var previous = table[((slice - 1) * 256) + i];
                table[(slice * 256) + i] = (previous >> 8) ^ table[previous & 0xFF];
            }
        }

        return table;
    }
}
