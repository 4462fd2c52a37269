using System.Numerics;
using System.Runtime.CompilerServices;

namespace ReadHistory.Core.Filters;

/// <summary>The batch check: hashes a chunk of 64 ids once, then asks each layer only about the ids still absent.</summary>
public sealed partial class UserFilter
{
    /// <summary><see cref="CheckMany(ushort, ReadOnlySpan{ulong}, Span{byte})"/> on a chosen probe path (tests force the scalar one).</summary>
    [SkipLocalsInit]
    internal unsafe int CheckMany(ushort contentType, ReadOnlySpan<ulong> contentIds, Span<byte> bitmap, ProbePath path)
    {
        FilterBitmap.ThrowIfTooShort(bitmap, contentIds.Length);
        var layers = Volatile.Read(ref _layers);
        var hashes = stackalloc ulong[64];
        var layerHashes = stackalloc ulong[64];
        var absent = 0;
        for (var start = 0; start < contentIds.Length; start += 64)
        {
            var count = Math.Min(64, contentIds.Length - start);
            var chunk = contentIds.Slice(start, count);
            for (var i = 0; i < count; i++)
            {
                hashes[i] = _hash.Compute(contentType, chunk[i]);
            }

            var all = FilterBitmap.AllOf(count);
            var found = layers[0].ProbeChunk(hashes, count, all, path);
            for (var layer = 1; layer < layers.Length && found != all; layer++)
            {
                var pending = all & ~found;
                for (var left = pending; left != 0; left &= left - 1)
                {
                    var i = BitOperations.TrailingZeroCount(left);
                    layerHashes[i] = LayerHash(hashes[i], layer);
                }

                found |= layers[layer].ProbeChunk(layerHashes, count, pending, path);
            }

            FilterBitmap.Write(bitmap, start, found, count);
            absent += count - BitOperations.PopCount(found);
        }

        return absent;
    }
}
