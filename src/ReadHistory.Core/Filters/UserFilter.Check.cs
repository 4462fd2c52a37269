using System.Numerics;
using System.Runtime.CompilerServices;

namespace ReadHistory.Core.Filters;

/// <summary>The batch check: hashes a chunk of 64 ids once, then asks each layer only about the ids still absent.</summary>
public sealed partial class UserFilter
{
    /// <summary><see cref="CheckMany(ushort, ReadOnlySpan{ulong}, Span{byte})"/> on a chosen probe path (benchmarks compare paths; tests force the scalar one).</summary>
    public int CheckMany(ushort contentType, ReadOnlySpan<ulong> contentIds, Span<byte> bitmap, ProbePath path) =>
        CheckMany(_words, _shape, Volatile.Read(ref _grown), contentType, contentIds, bitmap, path);

    /// <summary>The batch check of a one-layer filter held as its bare first-layer array (a cache's compact form).</summary>
    internal static int CheckHeld(ulong[] words, FilterShape shape, ushort contentType, ReadOnlySpan<ulong> contentIds, Span<byte> bitmap) =>
        CheckMany(words, shape, grown: null, contentType, contentIds, bitmap, ProbePaths.Best);

    [SkipLocalsInit]
    private static unsafe int CheckMany(ulong[] words, FilterShape shape, BlockedBloomFilter[]? grown, ushort contentType, ReadOnlySpan<ulong> contentIds, Span<byte> bitmap, ProbePath path)
    {
        FilterBitmap.ThrowIfTooShort(bitmap, contentIds.Length);
        var hashes = stackalloc ulong[64];
        var layerHashes = stackalloc ulong[64];
        var hash = shape.Hash;
        var probes = shape.Probes;
        var blockCount = FilterWords.BlockCount(words);
        var fuse = FilterWords.IsFuse(words);
        var absent = 0;
        fixed (ulong* first = &words[FilterWords.HeaderWords])
        {
            for (var start = 0; start < contentIds.Length; start += 64)
            {
                var count = Math.Min(64, contentIds.Length - start);
                var chunk = contentIds.Slice(start, count);
                for (var i = 0; i < count; i++)
                {
                    hashes[i] = hash.Compute(contentType, chunk[i]);
                }

                var all = FilterBitmap.AllOf(count);
                var found = fuse ? FuseLayer.ProbeChunk(words, hashes, all) : BlockProbe.ProbeChunk(first, blockCount, probes, hashes, all, path);
                for (var layer = 0; grown is not null && layer < grown.Length && found != all; layer++)
                {
                    var pending = all & ~found;
                    for (var left = pending; left != 0; left &= left - 1)
                    {
                        var i = BitOperations.TrailingZeroCount(left);
                        layerHashes[i] = LayerHash(hashes[i], layer + 1);
                    }

                    found |= grown[layer].ProbeChunk(layerHashes, pending, path);
                }

                FilterBitmap.Write(bitmap, start, found, count);
                absent += count - BitOperations.PopCount(found);
            }
        }

        return absent;
    }
}
