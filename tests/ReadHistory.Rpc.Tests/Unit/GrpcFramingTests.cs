using System.Buffers;
using System.IO.Pipelines;
using Google.Protobuf;
using ReadHistory.Rpc.Internal;
using ReadHistory.Rpc.Tests.Conformance.V1;
using ReadHistory.Rpc.Tests.Infrastructure;
using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.Rpc.Tests.Unit;

public class GrpcFramingTests
{
    private const int Max = 1024;

    [Theory]
    [InlineData(new byte[] { 0, 0, 0, 0, 0 }, false, 0)]
    [InlineData(new byte[] { 1, 0, 0, 0, 5 }, true, 5)]
    [InlineData(new byte[] { 0, 0, 0, 1, 0 }, false, 256)]
    [InlineData(new byte[] { 0, 0, 0, 4, 0 }, false, 1024)]
    public void A_valid_prefix_gives_flag_and_length(byte[] prefix, bool compressed, int length)
    {
        var header = GrpcFrameHeader.Create(prefix, Max);

        Assert.Equal(compressed, header.Compressed);
        Assert.Equal(length, header.Length);
    }

    [Theory]
    [InlineData(new byte[] { 2, 0, 0, 0, 0 }, StatusCode.Internal)]
    [InlineData(new byte[] { 0xFF, 0, 0, 0, 1 }, StatusCode.Internal)]
    [InlineData(new byte[] { 0, 0, 0, 4, 1 }, StatusCode.ResourceExhausted)]
    [InlineData(new byte[] { 0, 0x7F, 0xFF, 0xFF, 0xFF }, StatusCode.ResourceExhausted)]
    [InlineData(new byte[] { 0, 0xFF, 0xFF, 0xFF, 0xFF }, StatusCode.ResourceExhausted)]
    [InlineData(new byte[] { 1, 0x80, 0, 0, 0 }, StatusCode.ResourceExhausted)]
    [InlineData(new byte[] { 0, 0, 0 }, StatusCode.Internal)]
    public void A_hostile_prefix_is_refused_with_the_spec_status(byte[] prefix, StatusCode expected)
    {
        var ex = Assert.Throws<RpcException>(() => GrpcFrameHeader.Create(prefix, Max));

        Assert.Equal(expected, ex.StatusCode);
    }

    [Theory]
    [InlineData(new byte[0])]
    [InlineData(new byte[] { 0 })]
    [InlineData(new byte[] { 0, 0, 0, 0 })]
    [InlineData(new byte[] { 0, 0, 0, 0, 3 })]
    [InlineData(new byte[] { 0, 0, 0, 0, 3, 1, 2 })]
    [InlineData(new byte[] { 0, 0, 0, 1, 0, 1, 2, 3 })]
    public void A_truncated_message_asks_for_more_and_leaves_the_buffer(byte[] bytes)
    {
        var buffer = new ReadOnlySequence<byte>(bytes);

        var complete = GrpcFraming.TryReadMessage(ref buffer, Max, out _, out _);

        Assert.False(complete);
        Assert.Equal(bytes.Length, buffer.Length);
    }

    [Fact]
    public void An_oversize_prefix_is_refused_before_its_message_arrives()
    {
        var buffer = new ReadOnlySequence<byte>(new byte[] { 0, 0, 0x10, 0, 0 });

        var ex = Assert.Throws<RpcException>(() => GrpcFraming.TryReadMessage(ref buffer, Max, out _, out _));

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
    }

    [Fact]
    public void Two_messages_back_to_back_are_read_one_after_the_other()
    {
        var buffer = new ReadOnlySequence<byte>(new byte[] { 0, 0, 0, 0, 2, 0xA, 0xB, 1, 0, 0, 0, 1, 0xC, 0 });

        Assert.True(GrpcFraming.TryReadMessage(ref buffer, Max, out var first, out var firstPayload));
        Assert.True(GrpcFraming.TryReadMessage(ref buffer, Max, out var second, out var secondPayload));

        Assert.Equal(new byte[] { 0xA, 0xB }, firstPayload.ToArray());
        Assert.False(first.Compressed);
        Assert.Equal(new byte[] { 0xC }, secondPayload.ToArray());
        Assert.True(second.Compressed);
        Assert.Equal(1, buffer.Length);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    public void A_prefix_split_over_segments_is_read(int split)
    {
        var bytes = new byte[] { 0, 0, 0, 0, 3, 7, 8, 9 };
        var buffer = SegmentedSequence.Create(bytes.AsMemory(0, split), bytes.AsMemory(split));

        Assert.True(GrpcFraming.TryReadMessage(ref buffer, Max, out var header, out var payload));

        Assert.Equal(3, header.Length);
        Assert.Equal(new byte[] { 7, 8, 9 }, payload.ToArray());
    }

    [Fact]
    public void A_written_message_reads_back_equal()
    {
        var message = new EchoRequest { Text = "hello", Payload = ByteString.CopyFrom(1, 2, 3), Repeat = 7 };
        var writer = new ArrayBufferWriter<byte>();

        GrpcFraming.WriteMessage(writer, message, message.CalculateSize());
        var buffer = new ReadOnlySequence<byte>(writer.WrittenMemory);
        Assert.True(GrpcFraming.TryReadMessage(ref buffer, Max, out var header, out var payload));

        Assert.Equal(message.CalculateSize() + 5, writer.WrittenCount);
        Assert.Equal(message, MessageDecoder.Decode(EchoRequest.Parser, header, payload, null, Max));
    }

    [Fact]
    public void A_gzip_message_reads_back_equal()
    {
        var message = new EchoRequest { Text = new string('a', 500) };
        var writer = new ArrayBufferWriter<byte>();

        MessageCompression.WriteCompressedMessage(writer, message, message.CalculateSize(), System.IO.Compression.CompressionLevel.Fastest);
        var buffer = new ReadOnlySequence<byte>(writer.WrittenMemory);
        Assert.True(GrpcFraming.TryReadMessage(ref buffer, Max, out var header, out var payload));

        Assert.True(header.Compressed);
        Assert.True(header.Length < 100);
        Assert.Equal(message, MessageDecoder.Decode(EchoRequest.Parser, header, payload, "gzip", Max));
    }

    [Fact]
    public void A_gzip_bomb_is_refused_at_the_limit()
    {
        var message = new EchoRequest { Payload = ByteString.CopyFrom(new byte[Max * 10]) };
        var writer = new ArrayBufferWriter<byte>();
        MessageCompression.WriteCompressedMessage(writer, message, message.CalculateSize(), System.IO.Compression.CompressionLevel.Optimal);
        var buffer = new ReadOnlySequence<byte>(writer.WrittenMemory);
        Assert.True(GrpcFraming.TryReadMessage(ref buffer, Max, out var header, out var payload));

        var ex = Assert.Throws<RpcException>(() => MessageDecoder.Decode(EchoRequest.Parser, header, payload, "gzip", Max));

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
    }

    [Theory]
    [InlineData(null, StatusCode.Internal)]
    [InlineData("identity", StatusCode.Internal)]
    [InlineData("snappy", StatusCode.Unimplemented)]
    public void A_compressed_message_without_a_known_encoding_is_refused(string? encoding, StatusCode expected)
    {
        var buffer = new ReadOnlySequence<byte>(new byte[] { 1, 0, 0, 0, 1, 0 });
        Assert.True(GrpcFraming.TryReadMessage(ref buffer, Max, out var header, out var payload));

        var ex = Assert.Throws<RpcException>(() => MessageDecoder.Decode(EchoRequest.Parser, header, payload, encoding, Max));

        Assert.Equal(expected, ex.StatusCode);
    }

    [Theory]
    [InlineData(new byte[] { 1, 0, 0, 0, 3, 1, 2, 3 })]
    [InlineData(new byte[] { 1, 0, 0, 0, 0 })]
    public void Corrupt_gzip_is_internal(byte[] bytes)
    {
        var buffer = new ReadOnlySequence<byte>(bytes);
        Assert.True(GrpcFraming.TryReadMessage(ref buffer, Max, out var header, out var payload));

        var ex = Assert.Throws<RpcException>(() => MessageDecoder.Decode(EchoRequest.Parser, header, payload, "gzip", Max));

        Assert.Equal(StatusCode.Internal, ex.StatusCode);
    }

    [Theory]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF })]
    [InlineData(new byte[] { 0x0A, 0x10, 0x41 })]
    [InlineData(new byte[] { 0x12, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F })]
    [InlineData(new byte[] { 0x07 })]
    public void Garbage_protobuf_is_internal_failed_to_deserialize(byte[] garbage)
    {
        var bytes = new byte[5 + garbage.Length];
        GrpcFrameHeader.Write(bytes, false, garbage.Length);
        garbage.CopyTo(bytes, 5);
        var buffer = new ReadOnlySequence<byte>(bytes);
        Assert.True(GrpcFraming.TryReadMessage(ref buffer, Max, out var header, out var payload));

        var ex = Assert.Throws<RpcException>(() => MessageDecoder.Decode(EchoRequest.Parser, header, payload, null, Max));

        Assert.Equal(StatusCode.Internal, ex.StatusCode);
        Assert.Contains("deserialize", ex.Status.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new byte[0], 0)]
    [InlineData(new byte[] { 0, 0, 0, 0, 0 }, 1)]
    [InlineData(new byte[] { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, 2)]
    public async Task A_stream_that_ends_between_messages_ends_cleanly(byte[] bytes, int expectedMessages)
    {
        var reader = PipeReader.Create(new ReadOnlySequence<byte>(bytes));

        var count = 0;
        while (await GrpcMessageReading.ReadMessageAsync(reader, EchoRequest.Parser, Max, null, default).AsTask().DefaultTimeout() is not null)
        {
            count++;
        }

        Assert.Equal(expectedMessages, count);
    }

    [Theory]
    [InlineData(new byte[] { 0 })]
    [InlineData(new byte[] { 0, 0, 0, 0 })]
    [InlineData(new byte[] { 0, 0, 0, 0, 2, 0x08 })]
    [InlineData(new byte[] { 0, 0, 0, 0, 0, 0, 0 })]
    public async Task A_stream_that_ends_inside_a_message_is_internal(byte[] bytes)
    {
        var reader = PipeReader.Create(new ReadOnlySequence<byte>(bytes));

        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await GrpcMessageReading.ReadMessageAsync(reader, EchoRequest.Parser, Max, null, default) is not null)
            {
            }
        }).DefaultTimeout();

        Assert.Equal(StatusCode.Internal, ex.StatusCode);
        Assert.Equal("Incomplete message.", ex.Status.Detail);
    }

    [Fact]
    public async Task A_message_arriving_in_pieces_is_assembled()
    {
        var pipe = new Pipe();
        var message = new EchoRequest { Text = "pieces", Repeat = 3 };
        var framed = new ArrayBufferWriter<byte>();
        GrpcFraming.WriteMessage(framed, message, message.CalculateSize());

        var read = GrpcMessageReading.ReadMessageAsync(pipe.Reader, EchoRequest.Parser, Max, null, default).AsTask();
        foreach (var b in framed.WrittenSpan.ToArray())
        {
            await pipe.Writer.WriteAsync(new[] { b });
        }

        Assert.Equal(message, await read.DefaultTimeout());
    }
}
