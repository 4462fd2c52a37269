using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace ReadHistory.Core.Hashing;

/// <summary>
/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78; iSCSI, ext4, RocksDB), the checksum of filter snapshots.
/// SSE4.2's CRC32 instruction computes exactly this polynomial, 8 bytes per step; a byte table is the fallback.
/// </summary>
public static class Crc32C
{
    private const uint Polynomial = 0x82F6_3B78;
    private static readonly uint[] Table = BuildTable();

    /// <summary>The CRC-32C of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => Append(0, data);

    /// <summary>Extends a CRC-32C computed over earlier bytes with <paramref name="data"/>: Append(Compute(a), b) == Compute(a ‖ b).</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data) =>
        Sse42.X64.IsSupported ? ~AppendHardware(~crc, data) : ~AppendTable(~crc, data);

    /// <summary>The table path, whatever the CPU (tests compare it with the hardware path).</summary>
    internal static uint AppendScalar(uint crc, ReadOnlySpan<byte> data) => ~AppendTable(~crc, data);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static uint AppendHardware(uint state, ReadOnlySpan<byte> data)
    {
        ulong wide = state;
        while (data.Length >= 8)
        {
            wide = Sse42.X64.Crc32(wide, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }

        state = (uint)wide;
        foreach (var b in data)
        {
            state = Sse42.Crc32(state, b);
        }

        return state;
    }

    private static uint AppendTable(uint state, ReadOnlySpan<byte> data)
    {
        var table = Table;
        foreach (var b in data)
        {
            state = table[(byte)(state ^ b)] ^ (state >> 8);
        }

        return state;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            var value = i;
            for (var bit = 0; bit < 8; bit++)
            {
                value = (value & 1) != 0 ? (value >> 1) ^ Polynomial : value >> 1;
            }

            table[i] = value;
        }

        return table;
    }
}
