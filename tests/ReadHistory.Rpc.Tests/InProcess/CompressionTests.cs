using System.IO.Compression;
using Google.Protobuf;
using ReadHistory.Rpc.Client;
using ReadHistory.Rpc.Tests.Conformance.V1;
using ReadHistory.Rpc.Tests.Infrastructure;
using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.Rpc.Tests.InProcess;

public class CompressionTests(EchoServerFixture fixture) : IClassFixture<EchoServerFixture>
{
    private static readonly ByteString Compressible = ByteString.CopyFrom(new byte[20_000]);

    [Fact]
    public async Task A_gzip_request_is_decoded_by_the_server()
    {
        using var channel = fixture.Server.CreateChannel(new GrpcChannelOptions { SendCompression = "gzip" });

        var reply = await channel.CreateCallInvoker().AsyncUnaryCall(EchoMethods.Unary, null, default, new EchoRequest { Text = "gz", Payload = Compressible }).ResponseAsync.DefaultTimeout();

        Assert.Equal("gz", reply.Text);
        Assert.Equal(Compressible, reply.Payload);
    }

    [Fact]
    public async Task A_gzip_client_stream_is_decoded_by_the_server()
    {
        using var channel = fixture.Server.CreateChannel(new GrpcChannelOptions { SendCompression = "gzip" });
        using var call = channel.CreateCallInvoker().AsyncClientStreamingCall(EchoMethods.ClientStream, null, default);

        await call.RequestStream.WriteAsync(new EchoRequest { Text = "a", Payload = Compressible }).DefaultTimeout();
        await call.RequestStream.WriteAsync(new EchoRequest { Text = "b", Payload = Compressible }).DefaultTimeout();
        await call.RequestStream.CompleteAsync().DefaultTimeout();
        var reply = await call.ResponseAsync.DefaultTimeout();

        Assert.Equal("a,b", reply.Text);
        Assert.Equal(40_000, reply.Index);
    }

    [Fact]
    public async Task A_gzip_request_inflating_past_the_limit_is_resource_exhausted()
    {
        using var channel = fixture.Server.CreateChannel(new GrpcChannelOptions { SendCompression = "gzip" });
        var huge = new EchoRequest { Payload = ByteString.CopyFrom(new byte[TestGrpcServer.TestMaxMessageSize * 4]) };

        var ex = await Assert.ThrowsAsync<RpcException>(() => channel.CreateCallInvoker().AsyncUnaryCall(EchoMethods.Unary, null, default, huge).ResponseAsync).DefaultTimeout();

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
    }

    [Fact]
    public async Task A_server_set_to_gzip_compresses_responses_the_client_decodes()
    {
        await using var server = await TestGrpcServer.StartAsync(o => o.ResponseCompressionAlgorithm = "gzip");
        using var channel = server.CreateChannel();

        var reply = await channel.CreateCallInvoker().AsyncUnaryCall(EchoMethods.Unary, null, default, new EchoRequest { ReplyPayloadSize = 30_000 }).ResponseAsync.DefaultTimeout();
        using var stream = channel.CreateCallInvoker().AsyncServerStreamingCall(EchoMethods.ServerStream, null, default, new EchoRequest { Repeat = 3, ReplyPayloadSize = 1000 });
        var streamed = 0;
        while (await stream.ResponseStream.MoveNext(default).DefaultTimeout())
        {
            streamed += stream.ResponseStream.Current.Payload.Length;
        }

        Assert.Equal(30_000, reply.Payload.Length);
        Assert.Equal(3000, streamed);
    }

    [Fact]
    public async Task The_server_compresses_only_for_clients_that_accept_gzip()
    {
        await using var server = await TestGrpcServer.StartAsync(o => o.ResponseCompressionAlgorithm = "gzip");
        using var client = server.CreateRawClient();
        var body = RawGrpc.Frame(new EchoRequest { ReplyPayloadSize = 10_000 });

        var accepting = await RawGrpc.PostAsync(client, "/conformance.v1.Echo/Unary", RawGrpc.Body(body), ("grpc-accept-encoding", "identity, gzip"));
        var plain = await RawGrpc.PostAsync(client, "/conformance.v1.Echo/Unary", RawGrpc.Body(body));

        Assert.Equal(1, accepting.Body[0]);
        Assert.True(accepting.Body.Length < 1000);
        using var inflated = new MemoryStream();
        using (var gzip = new GZipStream(new MemoryStream(accepting.Body, 5, accepting.Body.Length - 5), CompressionMode.Decompress))
        {
            await gzip.CopyToAsync(inflated);
        }

        Assert.Equal(10_000, EchoReply.Parser.ParseFrom(inflated.ToArray()).Payload.Length);
        Assert.Equal(0, plain.Body[0]);
        Assert.True(plain.Body.Length > 10_000);
    }

    [Fact]
    public async Task A_hand_made_gzip_request_is_accepted()
    {
        using var client = fixture.Server.CreateRawClient();
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            new EchoRequest { Text = "by hand" }.WriteTo(gzip);
        }

        var response = await RawGrpc.PostAsync(client, "/conformance.v1.Echo/Unary", RawGrpc.Body(RawGrpc.Frame(1, compressed.ToArray())), ("grpc-encoding", "gzip"));

        Assert.Equal(StatusCode.OK, response.Code);
        Assert.Equal("by hand", EchoReply.Parser.ParseFrom(response.Body.AsSpan(5)).Text);
    }
}
