using System.Buffers;
using System.Runtime.InteropServices;
using Google.Protobuf;
using ReadHistory.Api.Internal.V1;
using ReadHistory.Server.Cache;
using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.Server.Tests.Cache;

/// <summary>
/// The hand-written SnapshotChunk decoder against the generated protobuf parser: same message for every valid input
/// (unknown fields skipped, the last of a repeated scalar kept), InvalidDataException naming the field for malformed input.
/// </summary>
public sealed class SnapshotChunkDecoderTests
{
    // The decoder keeps no unknown fields; the generated parser keeps them (and its Equals compares them) unless told not to.
    private static readonly MessageParser<SnapshotChunk> Discarding = SnapshotChunk.Parser.WithDiscardUnknownFields(true);

    [Fact]
    public void Random_messages_decode_as_the_generated_parser_parses_them()
    {
        var random = new Random(20261122);
        for (var round = 0; round < 300; round++)
        {
            var message = RandomChunk(random, maxParts: 20, maxData: 5000);
            var bytes = message.ToByteArray();

            var decoded = Decoded(bytes);

            Assert.Equal(SnapshotChunk.Parser.ParseFrom(bytes), decoded);
            Assert.Equal(message, decoded);
        }
    }

    [Fact]
    public void Unknown_fields_wrong_wire_types_and_repeated_scalars_decode_as_the_generated_parser_parses_them()
    {
        var random = new Random(7);
        var sawUnknown = new bool[6];
        for (var round = 0; round < 400; round++)
        {
            var bytes = RawChunk(random, maxParts: 20, maxData: 5000, sawUnknown);

            var expected = Discarding.ParseFrom(bytes);
            var decoded = Decoded(bytes);

            Assert.Equal(expected, decoded);
        }

        // Every wire type of unknown field was among the inputs.
        Assert.True(sawUnknown[0] && sawUnknown[1] && sawUnknown[2] && sawUnknown[5]);
    }

    [Fact]
    public void Appending_an_unknown_field_of_each_wire_type_to_a_serialized_message_changes_nothing()
    {
        var random = new Random(11);
        for (var round = 0; round < 50; round++)
        {
            var message = RandomChunk(random, maxParts: 5, maxData: 300);
            foreach (var wire in new[] { 0, 1, 2, 5 })
            {
                var raw = new RawWriter();
                raw.Bytes(message.ToByteArray());
                raw.Unknown(random, random.Next(5, 1 << 29), wire);
                var bytes = raw.ToArray();

                Assert.Equal(message, Decoded(bytes));
                Assert.Equal(Discarding.ParseFrom(bytes), Decoded(bytes));
            }
        }
    }

    [Fact]
    public void Every_prefix_decodes_exactly_when_the_generated_parser_accepts_it()
    {
        var random = new Random(3);
        var accepted = 0;
        var rejected = 0;
        for (var round = 0; round < 60; round++)
        {
            var bytes = round % 2 == 0
                ? RandomChunk(random, maxParts: 4, maxData: 40).ToByteArray()
                : RawChunk(random, maxParts: 4, maxData: 40, new bool[6]);
            for (var length = 0; length <= bytes.Length; length++)
            {
                var prefix = bytes.AsMemory(0, length);
                SnapshotChunk? expected;
                try
                {
                    expected = Discarding.ParseFrom(prefix.Span);
                }
                catch (InvalidProtocolBufferException)
                {
                    expected = null;
                }

                if (expected is null)
                {
                    Assert.Throws<InvalidDataException>(() => Decoded(prefix));
                    rejected++;
                }
                else
                {
                    Assert.Equal(expected, Decoded(prefix));
                    accepted++;
                }
            }
        }

        // Both outcomes were exercised many times.
        Assert.True(accepted > 100, $"accepted {accepted}");
        Assert.True(rejected > 100, $"rejected {rejected}");
    }

    [Fact]
    public void A_length_past_the_end_names_the_field()
    {
        // cursor (field 1, length-delimited) declares 10 bytes; 3 follow.
        var cursor = Assert.Throws<InvalidDataException>(() => Decoded(new byte[] { 0x0A, 10, 1, 2, 3 }));
        Assert.Contains("cursor declares 10 bytes", cursor.Message, StringComparison.Ordinal);
        Assert.Contains("only 3 remain", cursor.Message, StringComparison.Ordinal);

        // One byte short is past the end too, caught by the length check.
        var oneShort = Assert.Throws<InvalidDataException>(() => Decoded(new byte[] { 0x0A, 4, 1, 2, 3 }));
        Assert.Contains("cursor declares 4 bytes at offset 2; only 3 remain", oneShort.Message, StringComparison.Ordinal);

        // filters (field 2) declares 50 bytes; 2 follow.
        var filters = Assert.Throws<InvalidDataException>(() => Decoded(new byte[] { 0x12, 50, 0x18, 1 }));
        Assert.Contains("filters declares 50 bytes", filters.Message, StringComparison.Ordinal);

        // Inside a whole part: data (field 4) declares 9 bytes, the part holds 2 after it.
        var data = Assert.Throws<InvalidDataException>(() => Decoded(new byte[] { 0x12, 4, 0x22, 9, 1, 2, 0x18, 1 }));
        Assert.Contains("UserFilterChunk", data.Message, StringComparison.Ordinal);
        Assert.Contains("data declares 9 bytes", data.Message, StringComparison.Ordinal);

        // An unknown length-delimited field past the end.
        var unknown = Assert.Throws<InvalidDataException>(() => Decoded(new byte[] { 0x7A, 5, 1 }));
        Assert.Contains("an unknown field declares 5 bytes", unknown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_varint_longer_than_ten_bytes_names_the_field()
    {
        var bytes = new byte[] { 0x18 }.Concat(Enumerable.Repeat((byte)0xFF, 10)).Append((byte)0x01).ToArray();
        Assert.Throws<InvalidProtocolBufferException>(() => SnapshotChunk.Parser.ParseFrom(bytes));

        var ex = Assert.Throws<InvalidDataException>(() => Decoded(bytes));
        Assert.Contains("last: a varint longer than 10 bytes", ex.Message, StringComparison.Ordinal);

        // Ten bytes is still a varint (0xFF x9, 0x01 = ulong.MaxValue): last = true.
        var ten = new byte[] { 0x18 }.Concat(Enumerable.Repeat((byte)0xFF, 9)).Append((byte)0x01).ToArray();
        Assert.True(Decoded(ten).Last);

        // total_bytes (field 2 of a part, varint) inside a part.
        var part = new byte[] { 0x10 }.Concat(Enumerable.Repeat((byte)0x80, 10)).Append((byte)0x00).ToArray();
        var nested = new byte[] { 0x12, (byte)part.Length }.Concat(part).ToArray();
        var nestedEx = Assert.Throws<InvalidDataException>(() => Decoded(nested));
        Assert.Contains("total_bytes: a varint longer than 10 bytes", nestedEx.Message, StringComparison.Ordinal);

        // A tag that never ends.
        var tag = Assert.Throws<InvalidDataException>(() => Decoded(Enumerable.Repeat((byte)0x80, 11).ToArray()));
        Assert.Contains("tag: a varint longer than 10 bytes", tag.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    public void Field_number_zero_is_rejected(int wire)
    {
        var bytes = new byte[] { 0x18, 1, (byte)wire, 0, 0, 0, 0, 0, 0, 0, 0 };
        Assert.Throws<InvalidProtocolBufferException>(() => SnapshotChunk.Parser.ParseFrom(bytes));

        var ex = Assert.Throws<InvalidDataException>(() => Decoded(bytes));
        Assert.Contains("field number 0 at offset 2", ex.Message, StringComparison.Ordinal);

        // And inside a part.
        var nested = Assert.Throws<InvalidDataException>(() => Decoded(new byte[] { 0x12, 2, (byte)wire, 0 }));
        Assert.Contains("UserFilterChunk", nested.Message, StringComparison.Ordinal);
        Assert.Contains("field number 0", nested.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(6)]
    [InlineData(7)]
    public void Wire_types_three_four_six_and_seven_are_rejected(int wire)
    {
        // An unknown field 9, and the known field 3 (last), each with the wire type, after a valid field.
        foreach (var field in new[] { 9, 3 })
        {
            var bytes = new byte[] { 0x18, 1, (byte)((field << 3) | wire), 0x08, 1 };
            var ex = Assert.Throws<InvalidDataException>(() => Decoded(bytes));
            Assert.Contains($"field {field} has wire type {wire} at offset 3", ex.Message, StringComparison.Ordinal);
        }

        var nested = Assert.Throws<InvalidDataException>(() => Decoded(new byte[] { 0x12, 1, (byte)((4 << 3) | wire) }));
        Assert.Contains($"field 4 has wire type {wire}", nested.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Truncated_fixed_width_fields_are_rejected()
    {
        // user_id is fixed64: 8 bytes, 3 given.
        var ex = Assert.Throws<InvalidDataException>(() => Decoded(new byte[] { 0x12, 4, 0x09, 1, 2, 3 }));
        Assert.Contains("user_id needs 8 bytes", ex.Message, StringComparison.Ordinal);

        // An unknown fixed32 with 2 bytes.
        var unknown = Assert.Throws<InvalidDataException>(() => Decoded(new byte[] { 0x25, 1, 2 }));
        Assert.Contains("an unknown field needs 4 bytes", unknown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_payload_split_over_many_segments_decodes_as_one_array_does()
    {
        var random = new Random(5);
        var decoder = new SnapshotChunkDecoder();
        var multiSegment = 0;
        var taken = new List<DecodedChunk>();
        for (var round = 0; round < 100; round++)
        {
            var bytes = RawChunk(random, maxParts: 20, maxData: 5000, new bool[6]);
            var sequence = Split(bytes, random, segments: 2 + random.Next(8));
            multiSegment += sequence.IsSingleSegment ? 0 : 1;

            var head = decoder.Decode(sequence);
            Assert.Equal(1, decoder.Pending);
            var parts = decoder.TakeDecoded();
            Assert.Equal(0, decoder.Pending);
            taken.Add(parts);

            Assert.Empty(head.Filters);
            Assert.Equal(Decoded(bytes), Whole(head, parts));
            Assert.Equal(Discarding.ParseFrom(bytes), Whole(head, parts));
        }

        Assert.True(multiSegment > 50, $"{multiSegment} of 100 payloads spanned several segments");
        Assert.Throws<InvalidOperationException>(() => decoder.TakeDecoded());
        foreach (var chunk in taken)
        {
            chunk.Dispose();
            chunk.Dispose(); // twice: the buffer goes back once
        }
    }

    [Fact]
    public void Every_part_of_a_decoded_chunk_refers_to_one_buffer_and_not_to_the_payload()
    {
        var message = RandomChunk(new Random(9), maxParts: 0, maxData: 0);
        for (var i = 0; i < 5; i++)
        {
            message.Filters.Add(new UserFilterChunk { UserId = (ulong)i, TotalBytes = 100, Offset = 0, Data = ByteString.CopyFrom(Enumerable.Repeat((byte)i, 100).ToArray()) });
        }

        var payload = message.ToByteArray();
        var decoder = new SnapshotChunkDecoder();
        var head = decoder.Decode(new ReadOnlySequence<byte>(payload));
        using var parts = decoder.TakeDecoded();

        var buffers = parts.Parts.Select(part => BufferOf(part.Data)).Distinct().ToList();
        var buffer = Assert.Single(buffers);
        Assert.NotSame(payload, buffer);
        Assert.Equal(message, Whole(head, parts));
    }

    [Fact]
    public void Disposing_a_chunk_returns_its_buffer_to_the_pool()
    {
        // Sizes in one pool bucket (64 KiB): the shared pool hands this thread the array it last returned to that bucket.
        var random = new Random(13);
        var decoder = new SnapshotChunkDecoder();
        var chunks = new List<DecodedChunk>();
        for (var i = 0; i < 4; i++)
        {
            var message = new SnapshotChunk { Cursor = ByteString.CopyFrom(Bytes(random, 8)) };
            message.Filters.Add(new UserFilterChunk { UserId = (ulong)i, TotalBytes = 40_000, Data = ByteString.CopyFrom(Bytes(random, 40_000 + i)) });
            decoder.Decode(new ReadOnlySequence<byte>(message.ToByteArray()));
            chunks.Add(decoder.TakeDecoded());
        }

        var buffers = chunks.Select(c => BufferOf(c.Parts[0].Data)).ToList();
        Assert.Equal(4, buffers.Distinct().Count());
        for (var i = 0; i < 4; i++)
        {
            chunks[i].Dispose();
            var next = ArrayPool<byte>.Shared.Rent(40_000);
            try
            {
                Assert.Same(buffers[i], next);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(next);
            }
        }
    }

    [Fact]
    public void A_failed_decode_leaves_nothing_pending_and_the_decoder_usable()
    {
        var random = new Random(17);
        var decoder = new SnapshotChunkDecoder();
        var good = RandomChunk(random, maxParts: 3, maxData: 100);
        var head = decoder.Decode(new ReadOnlySequence<byte>(good.ToByteArray()));
        Assert.Equal(1, decoder.Pending);

        var bad = good.ToByteArray().Concat(new byte[] { 0x0A, 50, 1 }).ToArray();
        Assert.Throws<InvalidDataException>(() => decoder.Decode(Split(bad, random, segments: 3)));
        Assert.Throws<InvalidDataException>(() => decoder.Decode(new ReadOnlySequence<byte>(new byte[] { 0x1E })));
        Assert.Equal(1, decoder.Pending);
        using (var parts = decoder.TakeDecoded())
        {
            Assert.Equal(good, Whole(head, parts));
        }

        head = decoder.Decode(new ReadOnlySequence<byte>(good.ToByteArray()));
        using (var parts = decoder.TakeDecoded())
        {
            Assert.Equal(good, Whole(head, parts));
        }

        // An empty payload is the default message.
        head = decoder.Decode(ReadOnlySequence<byte>.Empty);
        using (var parts = decoder.TakeDecoded())
        {
            Assert.Equal(new SnapshotChunk(), Whole(head, parts));
        }
    }

    /// <summary>The message a fresh decoder makes of <paramref name="bytes"/> (one segment), its parts copied out.</summary>
    private static SnapshotChunk Decoded(ReadOnlyMemory<byte> bytes)
    {
        var decoder = new SnapshotChunkDecoder();
        var head = decoder.Decode(new ReadOnlySequence<byte>(bytes));
        using var parts = decoder.TakeDecoded();
        return Whole(head, parts);
    }

    /// <summary>The message a decoded chunk stands for: the head's cursor and flags, the parts as UserFilterChunks.</summary>
    private static SnapshotChunk Whole(SnapshotChunk head, DecodedChunk parts)
    {
        var whole = head.Clone();
        foreach (var part in parts.Parts)
        {
            whole.Filters.Add(new UserFilterChunk { UserId = part.UserId, TotalBytes = part.TotalBytes, Offset = part.Offset, Data = ByteString.CopyFrom(part.Data.Span) });
        }

        return whole;
    }

    private static byte[] BufferOf(ReadOnlyMemory<byte> data)
    {
        Assert.True(MemoryMarshal.TryGetArray(data, out var segment));
        return segment.Array!;
    }

    private static SnapshotChunk RandomChunk(Random random, int maxParts, int maxData)
    {
        var chunk = new SnapshotChunk
        {
            Cursor = ByteString.CopyFrom(Bytes(random, random.Next(0, 40))),
            Last = random.Next(2) == 1,
            Truncated = random.Next(4) == 0,
            LayoutSalt = random.Next(2) == 1 ? RandomUlong(random) : 0,
            Users = random.Next(2) == 1 ? RandomUlong(random) : 0,
            PoolBytes = random.Next(2) == 1 ? RandomUlong(random) : 0,
        };
        var parts = random.Next(0, maxParts + 1);
        for (var i = 0; i < parts; i++)
        {
            chunk.Filters.Add(new UserFilterChunk
            {
                UserId = RandomUlong(random),
                TotalBytes = RandomUlong(random),
                Offset = RandomUlong(random),
                Data = ByteString.CopyFrom(Bytes(random, random.Next(0, maxData + 1))),
            });
        }

        return chunk;
    }

    /// <summary>
    /// A SnapshotChunk written field by field: known fields repeated, in any order, with values of any width, known field
    /// numbers with the wrong wire type, and unknown fields of wire types 0, 1, 2 and 5, in the chunk and in its parts.
    /// </summary>
    private static byte[] RawChunk(Random random, int maxParts, int maxData, bool[] sawUnknown)
    {
        var raw = new RawWriter();
        var fields = random.Next(0, maxParts + 6);
        for (var i = 0; i < fields; i++)
        {
            switch (random.Next(6))
            {
                case 0:
                    raw.Tag(1, 2);
                    raw.LengthDelimited(Bytes(random, random.Next(0, 40)));
                    break;
                case 1:
                case 2:
                    raw.Tag(2, 2);
                    raw.LengthDelimited(RawPart(random, maxData, sawUnknown));
                    break;
                case 3:
                    raw.Tag(3, 0);
                    raw.Varint(random.Next(4) switch { 0 => 0, 1 => 1, 2 => (ulong)random.Next(2, 1000), _ => RandomUlong(random) }, random.Next(3));
                    break;
                case 4:
                    // A known field number with a wire type that is not its own: an unknown field to both parsers.
                    var (field, wrong) = random.Next(3) switch { 0 => (1, 0), 1 => (2, 5), _ => (3, 2) };
                    raw.Unknown(random, field, wrong);
                    break;
                default:
                    var wire = new[] { 0, 1, 2, 5 }[random.Next(4)];
                    sawUnknown[wire] = true;
                    raw.Unknown(random, random.Next(5, 1 << 29), wire);
                    break;
            }
        }

        return raw.ToArray();
    }

    private static byte[] RawPart(Random random, int maxData, bool[] sawUnknown)
    {
        var raw = new RawWriter();
        var fields = random.Next(0, 8);
        for (var i = 0; i < fields; i++)
        {
            switch (random.Next(6))
            {
                case 0:
                    raw.Tag(1, 1);
                    raw.Fixed64(RandomUlong(random));
                    break;
                case 1:
                    raw.Tag(2, 0);
                    raw.Varint(RandomUlong(random), random.Next(2));
                    break;
                case 2:
                    raw.Tag(3, 0);
                    raw.Varint(RandomUlong(random), random.Next(2));
                    break;
                case 3:
                    raw.Tag(4, 2);
                    raw.LengthDelimited(Bytes(random, random.Next(0, maxData + 1)));
                    break;
                case 4:
                    var (field, wrong) = random.Next(4) switch { 0 => (1, 0), 1 => (2, 1), 2 => (3, 5), _ => (4, 0) };
                    raw.Unknown(random, field, wrong);
                    break;
                default:
                    var wire = new[] { 0, 1, 2, 5 }[random.Next(4)];
                    sawUnknown[wire] = true;
                    raw.Unknown(random, random.Next(5, 1 << 29), wire);
                    break;
            }
        }

        return raw.ToArray();
    }

    private static ReadOnlySequence<byte> Split(byte[] bytes, Random random, int segments)
    {
        int[] cuts = [0, .. Enumerable.Range(0, segments - 1).Select(_ => random.Next(0, bytes.Length + 1)).Order(), bytes.Length];
        var sequence = SegmentedSequence.Create([.. cuts.Zip(cuts.Skip(1), (start, end) => (ReadOnlyMemory<byte>)bytes.AsMemory(start, end - start))]);
        Assert.Equal(bytes, sequence.ToArray());
        return sequence;
    }

    private static ulong RandomUlong(Random random) => random.Next(4) switch
    {
        0 => 0,
        1 => (ulong)random.Next(0, 300),
        2 => ulong.MaxValue - (ulong)random.Next(0, 3),
        _ => (ulong)random.NextInt64() ^ ((ulong)random.Next() << 33),
    };

    private static byte[] Bytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    /// <summary>Protobuf wire bytes by hand (tags, varints padded on request, fixed widths, length-delimited).</summary>
    private sealed class RawWriter
    {
        private readonly List<byte> _bytes = [];

        public void Tag(int field, int wire) => Varint(((ulong)field << 3) | (uint)wire, 0);

        // padding: extra continuation bytes (a non-minimal encoding every parser accepts), within 10 bytes in all.
        public void Varint(ulong value, int padding)
        {
            var written = 0;
            while (value >= 0x80)
            {
                _bytes.Add((byte)(value | 0x80));
                value >>= 7;
                written++;
            }

            padding = Math.Min(padding, 9 - written);
            if (padding <= 0)
            {
                _bytes.Add((byte)value);
                return;
            }

            _bytes.Add((byte)(value | 0x80));
            for (var i = 1; i < padding; i++)
            {
                _bytes.Add(0x80);
            }

            _bytes.Add(0);
        }

        public void Fixed64(ulong value)
        {
            for (var i = 0; i < 8; i++)
            {
                _bytes.Add((byte)(value >> (i * 8)));
            }
        }

        public void LengthDelimited(byte[] data)
        {
            Varint((ulong)data.Length, 0);
            _bytes.AddRange(data);
        }

        public void Bytes(byte[] data) => _bytes.AddRange(data);

        public void Unknown(Random random, int field, int wire)
        {
            Tag(field, wire);
            switch (wire)
            {
                case 0:
                    Varint(RandomUlong(random), random.Next(2));
                    break;
                case 1:
                    Fixed64(RandomUlong(random));
                    break;
                case 2:
                    LengthDelimited(SnapshotChunkDecoderTests.Bytes(random, random.Next(0, 50)));
                    break;
                default:
                    for (var i = 0; i < 4; i++)
                    {
                        _bytes.Add((byte)random.Next(256));
                    }

                    break;
            }
        }

        public byte[] ToArray() => [.. _bytes];
    }
}
