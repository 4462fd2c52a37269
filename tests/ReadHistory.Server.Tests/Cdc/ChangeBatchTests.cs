using System.Buffers.Binary;
using ReadHistory.Server.Cdc;
using Xunit;

namespace ReadHistory.Server.Tests.Cdc;

public sealed class ChangeBatchTests
{
    private static readonly StreamChange[] Changes =
    [
        new(1, 0, 42, StreamChangeKind.Upsert),
        new(ulong.MaxValue, ushort.MaxValue, ulong.MaxValue, StreamChangeKind.Delete),
        new(7, 0, 0, StreamChangeKind.ForgetUser),
    ];

    private static byte[] Sample() => ChangeBatch.Create(0x0123_4567_89ab_cdef, 1_700_000_000_123, "0-1-42,1-2-7", Changes);

    [Fact]
    public void A_batch_round_trips_every_field_and_change()
    {
        var batch = ChangeBatch.Parse(Sample());

        Assert.Equal(0x0123_4567_89ab_cdefUL, batch.Epoch);
        Assert.Equal(1_700_000_000_123, batch.CommitTimeMs);
        Assert.Equal("0-1-42,1-2-7", batch.SourcePosition);
        Assert.Equal(Changes.Length, batch.Count);
        for (var i = 0; i < Changes.Length; i++)
        {
            Assert.Equal(Changes[i], batch[i]);
        }

        var copied = new List<StreamChange>();
        batch.CopyTo(copied);
        Assert.Equal(Changes, copied);
    }

    [Fact]
    public void The_layout_is_the_documented_one()
    {
        var bytes = Sample();

        Assert.Equal(ChangeBatch.GetSize("0-1-42,1-2-7".Length, 3), bytes.Length);
        Assert.Equal(1, bytes[0]);
        Assert.Equal(0x0123_4567_89ab_cdefUL, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(2)));
        Assert.Equal(12, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(18)));
        Assert.Equal(3u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(32)));
        Assert.Equal(42UL, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(36 + 10)));
    }

    [Fact]
    public void An_empty_batch_with_a_file_position_round_trips()
    {
        var batch = ChangeBatch.Parse(ChangeBatch.Create(9, 0, "binlog.000003:4711", []));

        Assert.Equal(0, batch.Count);
        Assert.Equal("binlog.000003:4711", batch.SourcePosition);
    }

    [Fact]
    public void Every_truncation_is_rejected()
    {
        var bytes = Sample();
        for (var length = 0; length < bytes.Length; length++)
        {
            var e = Assert.Throws<ChangeBatchException>(() => ChangeBatch.Parse(bytes.AsMemory(0, length)));
            Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Every_single_bit_flip_is_rejected()
    {
        var bytes = Sample();
        for (var i = 0; i < bytes.Length; i++)
        {
            for (var bit = 0; bit < 8; bit++)
            {
                var corrupt = (byte[])bytes.Clone();
                corrupt[i] ^= (byte)(1 << bit);
                Assert.Throws<ChangeBatchException>(() => ChangeBatch.Parse(corrupt));
            }
        }
    }

    [Fact]
    public void Trailing_bytes_are_rejected()
    {
        var bytes = Sample().Concat(new byte[] { 0 }).ToArray();

        var e = Assert.Throws<ChangeBatchException>(() => ChangeBatch.Parse(bytes));
        Assert.Contains("trailing", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(2, "version 2")]
    [InlineData(0, "version 0")]
    public void An_unknown_version_is_named(byte version, string expected)
    {
        var bytes = Sample();
        bytes[0] = version;

        var e = Assert.Throws<ChangeBatchException>(() => ChangeBatch.Parse(bytes));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_kind_is_rejected_even_with_a_valid_checksum()
    {
        var encoded = new byte[StreamChange.Size];
        new StreamChange(1, 2, 3, (StreamChangeKind)9).Write(encoded);

        var e = Assert.Throws<ChangeBatchException>(() => ChangeBatch.Parse(ChangeBatch.CreateFromEncoded(5, 0, "0-1-1", encoded)));
        Assert.Contains("kind 9", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_huge_count_is_refused_before_anything_is_read()
    {
        var bytes = Sample();
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(32), uint.MaxValue);

        var e = Assert.Throws<ChangeBatchException>(() => ChangeBatch.Parse(bytes));
        Assert.Contains("exceeds", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Epoch_zero_and_non_ascii_positions_cannot_be_written()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ChangeBatch.Create(0, 0, "0-1-1", Changes));
        Assert.Throws<ArgumentException>(() => ChangeBatch.Create(1, 0, "é", Changes));
        Assert.Throws<ArgumentException>(() => ChangeBatch.Create(1, 0, new string('1', ChangeBatch.MaxPositionLength + 1), Changes));
    }
}
