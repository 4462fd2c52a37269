using System.Buffers;
using System.Buffers.Binary;
using ReadHistory.Core.Filters;
using ReadHistory.Core.Hashing;
using Xunit;

namespace ReadHistory.Core.Tests.Filters;

public sealed class FilterSnapshotTests
{
    private static readonly byte[] Stamp = Enumerable.Range(1, 16).Select(i => (byte)(i * 7)).ToArray();

    [Fact]
    public void Round_trip_keeps_layers_bits_counts_seed_and_stamp()
    {
        var filter = GrownFilter(out var options);
        var bytes = Write(filter);
        Assert.Equal(filter.SnapshotLength, bytes.Length);

        var stamp = new byte[16];
        var loaded = UserFilter.ReadSnapshot(bytes, options, stamp);

        Assert.Equal(Stamp, stamp);
        Assert.Equal(filter.Seed, loaded.Seed);
        Assert.Equal(filter.LayerCount, loaded.LayerCount);
        Assert.Equal(filter.Count, loaded.Count);
        Assert.Equal(filter.IsCapped, loaded.IsCapped);
        for (var i = 0; i < filter.LayerCount; i++)
        {
            Assert.Equal(filter.Layers[i].BlockCount, loaded.Layers[i].BlockCount);
            Assert.Equal(filter.Layers[i].Probes, loaded.Layers[i].Probes);
            Assert.Equal(filter.Layers[i].Capacity, loaded.Layers[i].Capacity);
            Assert.Equal(filter.Layers[i].DesignFalsePositiveRate, loaded.Layers[i].DesignFalsePositiveRate);
            Assert.Equal(filter.Layers[i].Words.ToArray(), loaded.Layers[i].Words.ToArray());
        }

        var ids = Enumerable.Range(0, 5_000).Select(i => (ulong)i).ToArray();
        var expected = new byte[ids.Length / 8];
        var actual = new byte[ids.Length / 8];
        Assert.Equal(filter.CheckMany(2, ids, expected), loaded.CheckMany(2, ids, actual));
        Assert.Equal(expected, actual);
        Assert.Equal(bytes, Write(loaded)); // and it writes back byte for byte
    }

    [Fact]
    public void Stream_and_buffer_writer_produce_the_same_bytes()
    {
        var filter = GrownFilter(out _);
        using var stream = new MemoryStream();
        filter.WriteSnapshot(stream, Stamp);
        Assert.Equal(Write(filter), stream.ToArray());
    }

    [Fact]
    public void A_large_filter_round_trips_through_many_chunks()
    {
        var options = new BloomFilterOptions { Seed = 99 };
        var filter = UserFilter.Create(200_000, options);
        filter.AddMany(1, Enumerable.Range(0, 150_000).Select(i => (ulong)i * 3).ToArray());
        using var stream = new MemoryStream();
        filter.WriteSnapshot(stream, Stamp);
        Assert.True(stream.Length > 3 * 64 * 1024);
        var loaded = UserFilter.ReadSnapshot(stream.ToArray(), options, new byte[16]);
        Assert.Equal(filter.Layers[0].Words.ToArray(), loaded.Layers[0].Words.ToArray());
    }

    [Fact]
    public void Header_fields_sit_where_the_diagram_says()
    {
        var filter = GrownFilter(out _);
        var bytes = Write(filter);
        Assert.Equal("RHBF"u8.ToArray(), bytes[..4]);
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(4)));
        Assert.Equal(64, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(6)));
        Assert.Equal(filter.Seed, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(8)));
        Assert.Equal(Stamp, bytes[16..32]);
        Assert.Equal((uint)filter.LayerCount, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(32)));
        Assert.Equal(bytes.Length, BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(40)));
        Assert.Equal(Crc32C.Compute(bytes.AsSpan(0, bytes.Length - 4)), BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(bytes.Length - 4)));
        var firstLayer = bytes.AsSpan(64, 32);
        Assert.Equal(filter.Layers[0].Capacity, BinaryPrimitives.ReadInt64LittleEndian(firstLayer));
        Assert.Equal((uint)filter.Layers[0].BlockCount, BinaryPrimitives.ReadUInt32LittleEndian(firstLayer[16..]));
        Assert.Equal(1, firstLayer[20]);
        Assert.Equal(filter.Layers[0].Probes, firstLayer[21]);
    }

    [Fact]
    public void Every_truncation_is_rejected_as_truncated()
    {
        var bytes = Write(GrownFilter(out var options));
        for (var length = 0; length < bytes.Length; length++)
        {
            var error = Assert.Throws<FilterSnapshotException>(() => UserFilter.ReadSnapshot(bytes.AsSpan(0, length), options, new byte[16]));
            Assert.Equal(FilterSnapshotError.Truncated, error.Error);
            Assert.Contains($"got {length}", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Every_flipped_byte_is_rejected()
    {
        var bytes = Write(GrownFilter(out var options));
        var bitsStart = 64 + (32 * BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(32)));
        foreach (var flip in new byte[] { 0x01, 0x80, 0xFF })
        {
            for (var i = 0; i < bytes.Length; i++)
            {
                var corrupt = (byte[])bytes.Clone();
                corrupt[i] ^= flip;
                var error = Assert.Throws<FilterSnapshotException>(() => UserFilter.ReadSnapshot(corrupt, options, new byte[16]));
                if (i >= bitsStart)
                {
                    Assert.Equal(FilterSnapshotError.ChecksumMismatch, error.Error);
                }
            }
        }
    }

    [Fact]
    public void Wrong_magic_and_version_say_what_was_expected()
    {
        var bytes = Write(GrownFilter(out var options));
        var magic = (byte[])bytes.Clone();
        magic[0] = (byte)'X';
        var error = Assert.Throws<FilterSnapshotException>(() => UserFilter.ReadSnapshot(magic, options, new byte[16]));
        Assert.Equal(FilterSnapshotError.BadMagic, error.Error);
        Assert.Contains("expected magic \"RHBF\" (52-48-42-46), got 58484246", error.Message, StringComparison.Ordinal);

        var version = Patch(bytes, b => BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(4), 2));
        error = Assert.Throws<FilterSnapshotException>(() => UserFilter.ReadSnapshot(version, options, new byte[16]));
        Assert.Equal(FilterSnapshotError.UnsupportedVersion, error.Error);
        Assert.Contains("expected 1, got 2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_oversize_declared_total_is_rejected_before_anything_else()
    {
        var bytes = Write(GrownFilter(out var options));
        var huge = (byte[])bytes.Clone();
        BinaryPrimitives.WriteInt64LittleEndian(huge.AsSpan(40), 1L << 60);
        var error = Assert.Throws<FilterSnapshotException>(() => UserFilter.ReadSnapshot(huge, options, new byte[16]));
        Assert.Equal(FilterSnapshotError.Oversize, error.Error);
        Assert.Contains($"declares {1L << 60} bytes", error.Message, StringComparison.Ordinal);

        // Only the 64-byte header present: still answered as oversize, not as truncated.
        error = Assert.Throws<FilterSnapshotException>(() => UserFilter.ReadSnapshot(huge.AsSpan(0, 64), options, new byte[16]));
        Assert.Equal(FilterSnapshotError.Oversize, error.Error);
    }

    [Fact]
    public void An_oversize_layer_is_rejected_even_with_a_valid_checksum()
    {
        var bytes = Write(GrownFilter(out var options));
        var patched = Patch(bytes, b => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(64 + 16), uint.MaxValue));
        var error = Assert.Throws<FilterSnapshotException>(() => UserFilter.ReadSnapshot(patched, options, new byte[16]));
        Assert.Equal(FilterSnapshotError.Oversize, error.Error);
        Assert.Contains($"{uint.MaxValue} blocks", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_snapshot_larger_than_the_readers_byte_budget_is_rejected()
    {
        var filter = UserFilter.Create(100_000, BloomFilterOptions.Default);
        var bytes = Write(filter);
        var small = new BloomFilterOptions { MaxBytes = 4096 };
        var error = Assert.Throws<FilterSnapshotException>(() => UserFilter.ReadSnapshot(bytes, small, new byte[16]));
        Assert.Equal(FilterSnapshotError.Oversize, error.Error);
    }

    [Theory]
    [InlineData(32, 0u, "expected 1 to 40 layers, got 0")]
    [InlineData(32, 41u, "expected 1 to 40 layers, got 41")]
    [InlineData(36, 2u, "expected flags 0 or 1, got 0x00000002")]
    [InlineData(64 + 20, 7u, "expected probe scheme 1 or 2, got 7")] // also overwrites k: scheme is checked first
    [InlineData(64 + 16, 0u, "expected 1 to")]
    public void Inconsistent_fields_are_rejected_even_with_a_valid_checksum(int offset, uint value, string message)
    {
        var bytes = Write(GrownFilter(out var options));
        var patched = Patch(bytes, b => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(offset), value));
        var error = Assert.Throws<FilterSnapshotException>(() => UserFilter.ReadSnapshot(patched, options, new byte[16]));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.Equal(FilterSnapshotError.Inconsistent, error.Error);
    }

    [Fact]
    public void Sizes_that_do_not_add_up_are_rejected()
    {
        var bytes = Write(GrownFilter(out var options));
        // One block fewer in layer 0, with a total length and checksum that match the shorter buffer.
        var blocks = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(64 + 16));
        var shorter = bytes[..^68].Concat(new byte[4]).ToArray();
        BinaryPrimitives.WriteInt64LittleEndian(shorter.AsSpan(40), shorter.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(shorter.AsSpan(shorter.Length - 4), Crc32C.Compute(shorter.AsSpan(0, shorter.Length - 4)));
        var error = Assert.Throws<FilterSnapshotException>(() => UserFilter.ReadSnapshot(shorter, options, new byte[16]));
        Assert.Equal(FilterSnapshotError.Inconsistent, error.Error);
        Assert.Contains($"expected a total length of {bytes.Length} for these layers, the header declares {shorter.Length}", error.Message, StringComparison.Ordinal);
        Assert.True(blocks > 0);
    }

    [Fact]
    public void Trailing_bytes_are_rejected()
    {
        var bytes = Write(GrownFilter(out var options));
        var longer = bytes.Concat(new byte[] { 0 }).ToArray();
        var error = Assert.Throws<FilterSnapshotException>(() => UserFilter.ReadSnapshot(longer, options, new byte[16]));
        Assert.Equal(FilterSnapshotError.Inconsistent, error.Error);
        Assert.Contains($"expected {bytes.Length} bytes, got {longer.Length}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_stamp_must_be_sixteen_bytes()
    {
        var filter = UserFilter.Create(10, BloomFilterOptions.Default);
        Assert.Throws<ArgumentException>(() => filter.WriteSnapshot(new ArrayBufferWriter<byte>(), new byte[15]));
        Assert.Throws<ArgumentException>(() => UserFilter.ReadSnapshot(Write(filter), BloomFilterOptions.Default, new byte[15]));
    }

    private static UserFilter GrownFilter(out BloomFilterOptions options)
    {
        options = new BloomFilterOptions { Seed = 0xABCD, MinimumCapacity = 16 };
        var filter = UserFilter.Create(10, options);
        for (ulong id = 0; id < 400; id++)
        {
            filter.Add(2, id * 2);
        }

        Assert.True(filter.LayerCount >= 3);
        return filter;
    }

    private static byte[] Write(UserFilter filter)
    {
        var writer = new ArrayBufferWriter<byte>();
        filter.WriteSnapshot(writer, Stamp);
        return writer.WrittenSpan.ToArray();
    }

    /// <summary>Applies a change and re-seals the checksum, so that the checks behind it are reached.</summary>
    private static byte[] Patch(byte[] bytes, Action<byte[]> change)
    {
        var copy = (byte[])bytes.Clone();
        change(copy);
        BinaryPrimitives.WriteUInt32LittleEndian(copy.AsSpan(copy.Length - 4), Crc32C.Compute(copy.AsSpan(0, copy.Length - 4)));
        return copy;
    }
}
