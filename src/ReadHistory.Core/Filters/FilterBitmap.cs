using System.Buffers.Binary;

namespace ReadHistory.Core.Filters;

/// <summary>The read bitmap of the public API: bit i at byte i / 8, bit i % 8, least significant first.</summary>
internal static class FilterBitmap
{
    /// <summary>Bytes a bitmap of <paramref name="items"/> bits takes.</summary>
    public static int BytesFor(int items) => (items + 7) >> 3;

    /// <summary>A mask of the low <paramref name="count"/> bits (1..64).</summary>
    public static ulong AllOf(int count) => count >= 64 ? ulong.MaxValue : (1UL << count) - 1;

    /// <summary>Throws when the bitmap cannot hold one bit per item.</summary>
    public static void ThrowIfTooShort(Span<byte> bitmap, int items)
    {
        if (bitmap.Length < BytesFor(items))
        {
            throw new ArgumentException($"The bitmap needs {BytesFor(items)} bytes for {items} items; it has {bitmap.Length}.", nameof(bitmap));
        }
    }

    /// <summary>Writes the bits of items start .. start + count − 1 (start a multiple of 64); spare bits of the last byte are 0.</summary>
    public static void Write(Span<byte> bitmap, int start, ulong bits, int count)
    {
        var target = bitmap[(start >> 3)..];
        if (count == 64)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(target, bits);
            return;
        }

        for (var b = 0; b < BytesFor(count); b++)
        {
            target[b] = (byte)(bits >> (b * 8));
        }
    }
}
