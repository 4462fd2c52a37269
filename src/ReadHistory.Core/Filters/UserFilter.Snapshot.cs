using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static UserFilter ReadSnapshot(ReadOnlySpan<byte> snapshot, BloomFilterOptions options, Span<byte> stamp)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (stamp.Length < FilterSnapshotHeader.StampSize)
        {
            throw new ArgumentException($"The stamp needs {FilterSnapshotHeader.StampSize} bytes; it has {stamp.Length}.", nameof(stamp));
        }

        var parsed = FilterSnapshot.Parse(snapshot, options.MaxBytes);
        var offset = parsed.BitsOffset;
        var firstLayer = parsed.Layer(0);
        var first = LoadLayer(snapshot, ref offset, firstLayer);
        BlockedBloomFilter[]? grown = null;
        if (parsed.LayerCount > 1)
        {
            grown = new BlockedBloomFilter[parsed.LayerCount - 1];
            for (var i = 1; i < parsed.LayerCount; i++)
            {
                var descriptor = parsed.Layer(i);
                FilterSnapshotHeader.Expect(descriptor.Scheme == FilterSnapshotLayer.LocalProbeScheme, $"expected probe scheme {FilterSnapshotLayer.LocalProbeScheme} in layer {i} (a fuse layer is layer 0 only), got {descriptor.Scheme}");
                grown[i - 1] = new BlockedBloomFilter(LoadLayer(snapshot, ref offset, descriptor), descriptor.Probes, descriptor.Capacity, descriptor.DesignFalsePositiveRate);
            }
        }

        parsed.Header.CopyStampTo(stamp);

        // The first layer's array is the filter: under the pool's shared shape when the snapshot was written with the
        // same seed and design, else under a private shape. Its header records the capacity (a larger one than it
        // holds is recorded smaller: the filter grows sooner).
        var header = parsed.Header;
        if (firstLayer.Scheme == FilterSnapshotLayer.FuseScheme)
        {
            // Every slot a query computes must lie in the array: the layout word is checked against its length.
            var problem = FuseLayer.Validate(first);
            FilterSnapshotHeader.Expect(problem is null, $"expected a consistent fuse layer 0, got {problem}");
            FilterSnapshotHeader.Expect(firstLayer.Probes == FuseLayer.FingerprintBits, $"expected {FuseLayer.FingerprintBits}-bit fingerprints in a fuse layer, got {firstLayer.Probes}");
            FilterSnapshotHeader.Expect(parsed.LayerCount > 1 || !header.IsCapped, $"expected a capped filter with a fuse base to have grown layers");

            // A fuse base's own design is fixed; the shape only carries the seed and what grown layers are made with.
            var fuseShape = header.Seed == options.Shape.Hash.Seed
                ? options.Shape
                : new FilterShape(options, header.Seed, options.Shape.Probes, options.Shape.DesignRate, shared: false);
            FilterWords.InitFirst(first, firstLayer.Capacity, header.IsCapped);
            FilterWords.Set(first, FilterWords.FuseFlag);
            return new UserFilter(first, fuseShape, grown);
        }

        var shape = options.Shape.Matches(header.Seed, firstLayer.Probes, firstLayer.DesignFalsePositiveRate)
            ? options.Shape
            : new FilterShape(options, header.Seed, firstLayer.Probes, firstLayer.DesignFalsePositiveRate, shared: false);
        FilterWords.InitFirst(first, firstLayer.Capacity, header.IsCapped);
        return new UserFilter(first, shape, grown);
    }

    /// <summary>A layer array filled from the snapshot's bits at <paramref name="offset"/> (moved past them), with its count; no other flags.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static ulong[] LoadLayer(ReadOnlySpan<byte> snapshot, ref int offset, FilterSnapshotLayer descriptor)
    {
        // Every word is written below: no need to clear the array first.
        var words = FilterWords.AllocateUninitialized(descriptor.BlockCount);
        FilterWords.Key(words) = 0;
        words[1] = 0;
        var bytes = (int)descriptor.BitBytes;
        CopyWordsFromLittleEndian(snapshot.Slice(offset, bytes), FilterWords.Blocks(words));
        FilterWords.Count(words) = (int)Math.Min(descriptor.Count, int.MaxValue);
        offset += bytes;
        return words;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void WriteSnapshot<TSink>(ref TSink sink, ReadOnlySpan<byte> stamp)
        where TSink : struct, ISnapshotSink
    {
        // Layer 0 is read straight from the filter's array (no layer object: a warm start writes a million snapshots).
        var grown = Volatile.Read(ref _grown) ?? [];
        var layerCount = 1 + grown.Length;
        var bitBytes = (long)FilterWords.BlockCount(_words) * BlockProbe.BlockBytes;
        foreach (var layer in grown)
        {
            bitBytes += layer.BitBytes;
        }

        var header = new FilterSnapshotHeader(Seed, stamp, layerCount, IsCapped, FilterSnapshot.LengthFor(layerCount, bitBytes), Options.TargetFalsePositiveRate);
        var headBytes = FilterSnapshotHeader.Size + (layerCount * FilterSnapshotLayer.Size);
        var head = sink.GetSpan(headBytes)[..headBytes];
        header.Write(head);
        var firstDescriptor = FilterWords.IsFuse(_words)
            ? new FilterSnapshotLayer(FirstCapacity, Volatile.Read(ref FilterWords.Count(_words)), FilterWords.BlockCount(_words), FuseLayer.FingerprintBits, FuseLayer.FalsePositiveRate, FilterSnapshotLayer.FuseScheme)
            : new FilterSnapshotLayer(FirstCapacity, Volatile.Read(ref FilterWords.Count(_words)), FilterWords.BlockCount(_words), _shape.Probes, _shape.DesignRate);
        firstDescriptor.Write(head.Slice(FilterSnapshotHeader.Size, FilterSnapshotLayer.Size));
        for (var i = 0; i < grown.Length; i++)
        {
            var layer = grown[i];
            new FilterSnapshotLayer(layer.Capacity, layer.Count, layer.BlockCount, layer.Probes, layer.DesignFalsePositiveRate)
                .Write(head.Slice(FilterSnapshotHeader.Size + ((i + 1) * FilterSnapshotLayer.Size), FilterSnapshotLayer.Size));
        }

        var crc = Crc32C.Compute(head);
        sink.Advance(headBytes);
        crc = WriteWords(ref sink, FilterWords.Blocks(_words), crc);
        foreach (var layer in grown)
        {
            crc = WriteWords(ref sink, layer.Words, crc);
        }

        var tail = sink.GetSpan(FilterSnapshot.ChecksumSize);
        BinaryPrimitives.WriteUInt32LittleEndian(tail, crc);
        sink.Advance(FilterSnapshot.ChecksumSize);
    }

    // The checksum is computed over the copy, so it matches the bytes written even while bits are being set.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static uint WriteWords<TSink>(ref TSink sink, ReadOnlySpan<ulong> words, uint crc)
        where TSink : struct, ISnapshotSink
    {
        while (!words.IsEmpty)
        {
            var count = Math.Min(words.Length, ChunkBytes / sizeof(ulong));
            var target = sink.GetSpan(count * sizeof(ulong))[..(count * sizeof(ulong))];
            CopyWordsToLittleEndian(words[..count], target);
            crc = Crc32C.Append(crc, target);
            sink.Advance(target.Length);
            words = words[count..];
        }

        return crc;
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
