using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using ReadHistory.Core.Hashing;

namespace ReadHistory.Core.Filters;

/// <summary>Snapshots: write to a buffer writer or a stream, load from bytes (layout in <see cref="FilterSnapshot"/>).</summary>
public sealed partial class UserFilter
{
    private const int ChunkBytes = 64 * 1024;

    /// <summary>Bytes <see cref="WriteSnapshot(IBufferWriter{byte}, ReadOnlySpan{byte})"/> writes for the current layers.</summary>
    public long SnapshotLength => FilterSnapshot.LengthFor(LayerCount, BitBytes);

    /// <summary>
    /// Writes a snapshot stamped with <paramref name="stamp"/> (16 bytes: the change-stream cursor read before the
    /// call; replaying from it is idempotent). Writers may run meanwhile: every bit set before the call is included.
    /// </summary>
    public void WriteSnapshot(IBufferWriter<byte> writer, ReadOnlySpan<byte> stamp)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var sink = new BufferWriterSink(writer);
        WriteSnapshot(ref sink, stamp);
    }

    /// <summary>Writes a snapshot to a stream (in 64 KiB chunks from a pooled buffer); see the buffer-writer overload.</summary>
    public void WriteSnapshot(Stream stream, ReadOnlySpan<byte> stamp)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var sink = new StreamSink(stream);
        try
        {
            WriteSnapshot(ref sink, stamp);
        }
        finally
        {
            sink.Dispose();
        }
    }

    /// <summary>
    /// Loads a snapshot after validating all of it (see <see cref="FilterSnapshot.Parse"/>; bits limited to
    /// <see cref="BloomFilterOptions.MaxBytes"/>), copies its stamp into <paramref name="stamp"/> (16 bytes) and
    /// returns the filter, which keeps the snapshot's seed and grows by <paramref name="options"/>.
    /// </summary>
    public static UserFilter ReadSnapshot(ReadOnlySpan<byte> snapshot, BloomFilterOptions options, Span<byte> stamp)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (stamp.Length < FilterSnapshotHeader.StampSize)
        {
            throw new ArgumentException($"The stamp needs {FilterSnapshotHeader.StampSize} bytes; it has {stamp.Length}.", nameof(stamp));
        }

        var parsed = FilterSnapshot.Parse(snapshot, options.MaxBytes);
        var layers = new BlockedBloomFilter[parsed.Layers.Count];
        var offset = parsed.BitsOffset;
        for (var i = 0; i < layers.Length; i++)
        {
            var descriptor = parsed.Layers[i];
            var layer = new BlockedBloomFilter(descriptor.BlockCount, descriptor.Probes, descriptor.Capacity, descriptor.DesignFalsePositiveRate);
            var bytes = (int)descriptor.BitBytes;
            CopyWordsFromLittleEndian(snapshot.Slice(offset, bytes), layer.Words);
            layer.RestoreCount(descriptor.Count);
            layers[i] = layer;
            offset += bytes;
        }

        parsed.Header.Stamp.CopyTo(stamp);
        return FromLayers(options, parsed.Header.Seed, layers, parsed.Header.IsCapped);
    }

    /// <summary>
    /// A filter from loaded layers: the first one's array becomes the filter's first layer, under the pool's shared
    /// shape when the snapshot was written with the same seed and design, else under a private shape.
    /// </summary>
    private static UserFilter FromLayers(BloomFilterOptions options, ulong seed, BlockedBloomFilter[] layers, bool capped)
    {
        var first = layers[0];
        var shape = options.Shape.Matches(seed, first.Probes, first.DesignFalsePositiveRate)
            ? options.Shape
            : new FilterShape(options, seed, first.Probes, first.DesignFalsePositiveRate, shared: false);
        // The header records the capacity (a larger one than it holds is recorded smaller: the filter grows sooner).
        var words = first.Array;
        FilterWords.InitFirst(words, first.Capacity, capped);
        return new UserFilter(words, shape, layers.Length > 1 ? layers[1..] : null);
    }

    private void WriteSnapshot<TSink>(ref TSink sink, ReadOnlySpan<byte> stamp)
        where TSink : struct, ISnapshotSink
    {
        var layers = LayerArray();
        long bitBytes = 0;
        foreach (var layer in layers)
        {
            bitBytes += layer.BitBytes;
        }

        var header = new FilterSnapshotHeader(Seed, stamp, layers.Length, IsCapped, FilterSnapshot.LengthFor(layers.Length, bitBytes), Options.TargetFalsePositiveRate);
        var headBytes = FilterSnapshotHeader.Size + (layers.Length * FilterSnapshotLayer.Size);
        var head = sink.GetSpan(headBytes)[..headBytes];
        header.Write(head);
        for (var i = 0; i < layers.Length; i++)
        {
            var layer = layers[i];
            new FilterSnapshotLayer(layer.Capacity, layer.Count, layer.BlockCount, layer.Probes, layer.DesignFalsePositiveRate)
                .Write(head.Slice(FilterSnapshotHeader.Size + (i * FilterSnapshotLayer.Size), FilterSnapshotLayer.Size));
        }

        var crc = Crc32C.Compute(head);
        sink.Advance(headBytes);

        foreach (var layer in layers)
        {
            // The checksum is computed over the copy, so it matches the bytes written even while bits are being set.
            ReadOnlySpan<ulong> words = layer.Words;
            while (!words.IsEmpty)
            {
                var count = Math.Min(words.Length, ChunkBytes / sizeof(ulong));
                var target = sink.GetSpan(count * sizeof(ulong))[..(count * sizeof(ulong))];
                CopyWordsToLittleEndian(words[..count], target);
                crc = Crc32C.Append(crc, target);
                sink.Advance(target.Length);
                words = words[count..];
            }
        }

        var tail = sink.GetSpan(FilterSnapshot.ChecksumSize);
        BinaryPrimitives.WriteUInt32LittleEndian(tail, crc);
        sink.Advance(FilterSnapshot.ChecksumSize);
    }

    private static void CopyWordsToLittleEndian(ReadOnlySpan<ulong> words, Span<byte> target)
    {
        if (BitConverter.IsLittleEndian)
        {
            MemoryMarshal.AsBytes(words).CopyTo(target);
            return;
        }

        for (var i = 0; i < words.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(target[(i * 8)..], words[i]);
        }
    }

    private static void CopyWordsFromLittleEndian(ReadOnlySpan<byte> source, Span<ulong> words)
    {
        if (BitConverter.IsLittleEndian)
        {
            source.CopyTo(MemoryMarshal.AsBytes(words));
            return;
        }

        for (var i = 0; i < words.Length; i++)
        {
            words[i] = BinaryPrimitives.ReadUInt64LittleEndian(source[(i * 8)..]);
        }
    }

    /// <summary>Where snapshot bytes go: a span to fill, then how much of it was filled.</summary>
    private interface ISnapshotSink
    {
        Span<byte> GetSpan(int sizeHint);

        void Advance(int count);
    }

    private readonly struct BufferWriterSink(IBufferWriter<byte> writer) : ISnapshotSink
    {
        public Span<byte> GetSpan(int sizeHint) => writer.GetSpan(sizeHint);

        public void Advance(int count) => writer.Advance(count);
    }

    private struct StreamSink(Stream stream) : ISnapshotSink, IDisposable
    {
        private byte[]? _buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);

        public readonly Span<byte> GetSpan(int sizeHint) => _buffer;

        public readonly void Advance(int count) => stream.Write(_buffer!, 0, count);

        public void Dispose()
        {
            if (_buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = null;
            }
        }
    }
}
