using Google.Protobuf;
using ReadHistory.Rpc.Server;
using ReadHistory.Rpc.Tests.Conformance.V1;
using ReadHistory.Rpc.Tests.Infrastructure;
using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.Rpc.Tests.InProcess;

/// <summary>A server-streaming handler may write messages it encoded itself (IEncodedStreamWriter): same framing, limits and compression as message objects.</summary>
public sealed class EncodedWriteTests
{
    private const string ServiceName = "conformance.v1.Encoded";

    // Reply i carries (i + 1) × ReplyPayloadSize bytes drawn from Random(i); odd replies are written encoded, even ones as objects.
    private static readonly Method<EchoRequest, EchoReply> Stream =
        new(MethodType.ServerStreaming, ServiceName, "Stream", EchoRequest.Parser, EchoReply.Parser);

    [Theory]
    [InlineData(null)]
    [InlineData("gzip")]
    public async Task Encoded_and_object_messages_arrive_alike_in_one_stream(string? compression)
    {
        await using var server = await StartAsync(o => o.ResponseCompressionAlgorithm = compression);
        using var channel = server.CreateChannel();

        using var call = channel.CreateCallInvoker().AsyncServerStreamingCall(Stream, null, default, new EchoRequest { Repeat = 6, ReplyPayloadSize = 20_000 });
        var received = new List<EchoReply>();
        while (await call.ResponseStream.MoveNext(default).DefaultTimeout())
        {
            received.Add(call.ResponseStream.Current);
        }

        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
        Assert.Equal(Enumerable.Range(0, 6).Select(i => Reply(i, 20_000)), received);
    }

    [Fact]
    public async Task An_encoded_message_over_the_send_limit_ends_the_call_with_resource_exhausted()
    {
        await using var server = await StartAsync(o => o.MaxSendMessageSize = 1000);
        using var channel = server.CreateChannel();

        using var call = channel.CreateCallInvoker().AsyncServerStreamingCall(Stream, null, default, new EchoRequest { Repeat = 2, ReplyPayloadSize = 600 });
        var received = 0;
        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await call.ResponseStream.MoveNext(default))
            {
                received++;
            }
        }).DefaultTimeout();

        // Reply 0 (an object of ~600 bytes) fits; reply 1 (encoded, ~1200) is refused by size as an object would be.
        Assert.Equal(1, received);
        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        Assert.Contains($"({Reply(1, 600).CalculateSize()} > 1000 bytes)", ex.Status.Detail, StringComparison.Ordinal);
    }

    private static Task<TestGrpcServer> StartAsync(Action<GrpcServerOptions> configure) => TestGrpcServer.StartAsync(configure,
        ServerServiceDefinition.CreateBuilder(ServiceName).AddServerStreamingMethod(Stream, StreamAsync).Build());

    private static async Task StreamAsync(EchoRequest request, IServerStreamWriter<EchoReply> responses, ServerCallContext context)
    {
        var encoded = Assert.IsAssignableFrom<IEncodedStreamWriter>(responses);
        for (var i = 0; i < request.Repeat; i++)
        {
            var reply = Reply(i, request.ReplyPayloadSize);
            if (i % 2 == 0)
            {
                await responses.WriteAsync(reply);
            }
            else
            {
                await encoded.WriteEncodedAsync(reply.ToByteArray(), context.CancellationToken);
            }
        }
    }

    private static EchoReply Reply(int index, int size)
    {
        var bytes = new byte[(index + 1) * size];
        new Random(index).NextBytes(bytes);
        return new EchoReply { Index = index, Payload = ByteString.CopyFrom(bytes) };
    }
}
