using System.Buffers;
using Google.Protobuf;
using ReadHistory.Rpc.Client;
using ReadHistory.Rpc.Server;
using ReadHistory.Rpc.Tests.Conformance.V1;
using ReadHistory.Rpc.Tests.Infrastructure;
using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.Rpc.Tests.InProcess;

/// <summary>
/// A client method's ResponseDecoder stands in for the generated parser on a real streaming call, and its
/// InvalidDataException becomes INTERNAL; the channel's ReceiveBufferSize is bounded and large messages arrive whole.
/// </summary>
public sealed class ResponseDecoderTests
{
    private const string ServiceName = "conformance.v1.Bulk";

    // The server streams Repeat replies; reply i carries ReplyPayloadSize bytes drawn from Random(seed + i), seed = DelayMs.
    private static readonly Method<EchoRequest, EchoReply> Stream =
        new(MethodType.ServerStreaming, ServiceName, "Stream", EchoRequest.Parser, EchoReply.Parser);

    [Fact]
    public async Task Every_streamed_message_is_what_the_decoder_returned()
    {
        await using var server = await StartAsync();
        using var channel = server.CreateChannel();
        var calls = 0;
        long payloadBytes = 0;
        var method = new Method<EchoRequest, EchoReply>(MethodType.ServerStreaming, ServiceName, "Stream", EchoRequest.Parser, EchoReply.Parser)
        {
            ResponseDecoder = payload =>
            {
                payloadBytes += payload.Length;
                var reply = EchoReply.Parser.ParseFrom(payload);
                reply.Count = ++calls; // the server never sets it: only the decoder's messages carry it
                return reply;
            },
        };

        using var call = channel.CreateCallInvoker().AsyncServerStreamingCall(method, null, default, new EchoRequest { Repeat = 40, ReplyPayloadSize = 3000, DelayMs = 1 });
        var received = new List<EchoReply>();
        while (await call.ResponseStream.MoveNext(default).DefaultTimeout())
        {
            received.Add(call.ResponseStream.Current);
        }

        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
        Assert.Equal(40, calls);
        Assert.Equal(Enumerable.Range(1, 40), received.Select(r => r.Count));
        Assert.Equal(Enumerable.Range(0, 40), received.Select(r => r.Index));
        Assert.All(received, r => Assert.Equal(Payload(1, r.Index, 3000), r.Payload.ToByteArray()));
        Assert.Equal(received.Sum(r => new EchoReply { Index = r.Index, Payload = r.Payload }.CalculateSize()), payloadBytes);
    }

    [Fact]
    public async Task A_decoder_that_throws_invalid_data_fails_the_call_with_internal_and_its_message()
    {
        await using var server = await StartAsync();
        using var channel = server.CreateChannel();
        var calls = 0;
        var method = new Method<EchoRequest, EchoReply>(MethodType.ServerStreaming, ServiceName, "Stream", EchoRequest.Parser, EchoReply.Parser)
        {
            ResponseDecoder = payload =>
            {
                if (++calls == 3)
                {
                    throw new InvalidDataException("reply 3 is not wanted (test)");
                }

                return EchoReply.Parser.ParseFrom(payload);
            },
        };

        using var call = channel.CreateCallInvoker().AsyncServerStreamingCall(method, null, default, new EchoRequest { Repeat = 10, ReplyPayloadSize = 100 });
        var received = 0;
        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await call.ResponseStream.MoveNext(default))
            {
                received++;
            }
        }).DefaultTimeout();

        Assert.Equal(2, received);
        Assert.Equal(StatusCode.Internal, ex.StatusCode);
        Assert.Equal("Failed to deserialize message. reply 3 is not wanted (test)", ex.Status.Detail);
        Assert.IsType<InvalidDataException>(ex.Status.DebugException);
    }

    [Fact]
    public async Task A_unary_response_goes_through_the_decoder_too()
    {
        await using var server = await StartAsync();
        using var channel = server.CreateChannel();
        var calls = 0;
        var method = new Method<EchoRequest, EchoReply>(MethodType.Unary, EchoMethods.ServiceName, "Unary", EchoRequest.Parser, EchoReply.Parser)
        {
            ResponseDecoder = payload => new EchoReply { Text = "decoded " + EchoReply.Parser.ParseFrom(payload).Text, Count = ++calls },
        };

        var reply = await channel.CreateCallInvoker().AsyncUnaryCall(method, null, default, new EchoRequest { Text = "hello" }).ResponseAsync.DefaultTimeout();

        Assert.Equal("decoded hello", reply.Text);
        Assert.Equal(1, calls);
    }

    [Theory]
    [InlineData(1023)]
    [InlineData((1 << 20) + 1)]
    [InlineData(0)]
    [InlineData(-1)]
    public void A_receive_buffer_size_out_of_range_is_refused(int size)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => GrpcChannel.ForAddress(new Uri("http://127.0.0.1:1"), new GrpcChannelOptions { ReceiveBufferSize = size }));
        Assert.Contains("ReceiveBufferSize must be 1024 to 1048576 bytes", ex.Message, StringComparison.Ordinal);
        Assert.Equal(size, ex.ActualValue);
    }

    [Theory]
    [InlineData(1024)]
    [InlineData(1 << 20)]
    public void The_receive_buffer_size_bounds_themselves_are_accepted(int size)
    {
        using var channel = GrpcChannel.ForAddress(new Uri("http://127.0.0.1:1"), new GrpcChannelOptions { ReceiveBufferSize = size });
        Assert.Equal(size, channel.ReaderOptions.BufferSize);
    }

    [Theory]
    [InlineData(256 * 1024)]
    [InlineData(1024)]
    public async Task Streamed_three_mebibyte_messages_arrive_intact(int receiveBufferSize)
    {
        await using var server = await StartAsync();
        using var channel = server.CreateChannel(new GrpcChannelOptions { ReceiveBufferSize = receiveBufferSize });
        const int Size = 3 * 1024 * 1024;
        var segments = new List<int>();
        var method = new Method<EchoRequest, EchoReply>(MethodType.ServerStreaming, ServiceName, "Stream", EchoRequest.Parser, EchoReply.Parser)
        {
            ResponseDecoder = payload =>
            {
                segments.Add(CountSegments(payload));
                return EchoReply.Parser.ParseFrom(payload);
            },
        };

        using var call = channel.CreateCallInvoker().AsyncServerStreamingCall(method, null, default, new EchoRequest { Repeat = 3, ReplyPayloadSize = Size, DelayMs = 77 });
        var index = 0;
        while (await call.ResponseStream.MoveNext(default).DefaultTimeout())
        {
            var reply = call.ResponseStream.Current;
            Assert.Equal(index, reply.Index);
            Assert.True(Payload(77, index, Size).AsSpan().SequenceEqual(reply.Payload.Span), $"reply {index} differs");
            index++;
        }

        Assert.Equal(3, index);
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);

        // Gathered from segments of the receive buffer's size (each at least 3/4 filled: reads go to a segment while a
        // quarter of it is free), not of the default 4 KiB.
        Assert.Equal(3, segments.Count);
        Assert.All(segments, count => Assert.InRange(count, Size / receiveBufferSize, receiveBufferSize > 4096 ? (2 * Size / receiveBufferSize) + 4 : int.MaxValue));
    }

    private static int CountSegments(ReadOnlySequence<byte> payload)
    {
        var count = 0;
        foreach (var unused in payload)
        {
            count++;
        }

        return count;
    }

    private static Task<TestGrpcServer> StartAsync() => TestGrpcServer.StartAsync(null,
        ServerServiceDefinition.CreateBuilder(ServiceName).AddServerStreamingMethod(Stream, StreamAsync).Build(),
        EchoService.CreateDefinition());

    private static async Task StreamAsync(EchoRequest request, IServerStreamWriter<EchoReply> responses, ServerCallContext context)
    {
        for (var i = 0; i < request.Repeat; i++)
        {
            await responses.WriteAsync(new EchoReply { Index = i, Payload = ByteString.CopyFrom(Payload(request.DelayMs, i, request.ReplyPayloadSize)) });
        }
    }

    private static byte[] Payload(int seed, int index, int size)
    {
        var bytes = new byte[size];
        new Random(seed + index).NextBytes(bytes);
        return bytes;
    }
}
