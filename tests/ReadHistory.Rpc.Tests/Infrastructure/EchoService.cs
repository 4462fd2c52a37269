using Google.Protobuf;
using ReadHistory.Rpc.Server;
using ReadHistory.Rpc.Tests.Conformance.V1;

namespace ReadHistory.Rpc.Tests.Infrastructure;

/// <summary>Our implementation of conformance.v1.Echo; conformance/server.js implements the same behaviour with grpc-js.</summary>
public static class EchoService
{
    /// <summary>A handler that throws this text: the client must never see it.</summary>
    public const string SecretText = "secret: password=hunter2";

    public static ServerServiceDefinition CreateDefinition() =>
        ServerServiceDefinition.CreateBuilder(EchoMethods.ServiceName)
            .AddUnaryMethod(EchoMethods.Unary, UnaryAsync)
            .AddClientStreamingMethod(EchoMethods.ClientStream, ClientStreamAsync)
            .AddServerStreamingMethod(EchoMethods.ServerStream, ServerStreamAsync)
            .Build();

    private static async Task<EchoReply> UnaryAsync(EchoRequest request, ServerCallContext context)
    {
        var remaining = DeadlineRemaining(context);
        await EchoMetadataAsync(context);
        if (request.DelayMs > 0)
        {
            await Task.Delay(request.DelayMs, context.CancellationToken);
        }

        if (request.Text == "throw")
        {
            throw new InvalidOperationException(SecretText);
        }

        ThrowIfAsked(request);
        return new EchoReply
        {
            Text = request.Text,
            Payload = request.ReplyPayloadSize > 0 ? ByteString.CopyFrom(new byte[request.ReplyPayloadSize]) : request.Payload,
            Count = 1,
            DeadlineRemainingMs = remaining,
        };
    }

    private static async Task<EchoReply> ClientStreamAsync(IAsyncStreamReader<EchoRequest> requests, ServerCallContext context)
    {
        await EchoMetadataAsync(context);
        var texts = new List<string>();
        long bytes = 0;
        await foreach (var request in requests.ReadAllAsync(context.CancellationToken))
        {
            ThrowIfAsked(request);
            texts.Add(request.Text);
            bytes += request.Payload.Length;
        }

        return new EchoReply { Text = string.Join(',', texts), Count = texts.Count, Index = (int)bytes, DeadlineRemainingMs = DeadlineRemaining(context) };
    }

    private static async Task ServerStreamAsync(EchoRequest request, IServerStreamWriter<EchoReply> responses, ServerCallContext context)
    {
        await EchoMetadataAsync(context);
        for (var i = 0; i < request.Repeat; i++)
        {
            if (request.DelayMs > 0)
            {
                await Task.Delay(request.DelayMs, context.CancellationToken);
            }

            await responses.WriteAsync(new EchoReply
            {
                Text = request.Text,
                Index = i,
                Payload = request.ReplyPayloadSize > 0 ? ByteString.CopyFrom(new byte[request.ReplyPayloadSize]) : ByteString.Empty,
            });
        }

        ThrowIfAsked(request);
    }

    private static void ThrowIfAsked(EchoRequest request)
    {
        if (request.FailCode != 0)
        {
            var trailers = new Metadata { { "x-failure", "asked" } };
            throw new RpcException(new Status((StatusCode)request.FailCode, request.FailMessage), trailers);
        }
    }

    /// <summary>Every request header starting with "x-" comes back in the response headers and in the trailers.</summary>
    private static async Task EchoMetadataAsync(ServerCallContext context)
    {
        var echoed = new Metadata();
        foreach (var entry in context.RequestHeaders)
        {
            if (entry.Key.StartsWith("x-", StringComparison.Ordinal))
            {
                echoed.Add(entry);
                context.ResponseTrailers.Add(entry);
            }
        }

        if (echoed.Count > 0)
        {
            await context.WriteResponseHeadersAsync(echoed);
        }
    }

    private static long DeadlineRemaining(ServerCallContext context) =>
        context.Deadline == DateTime.MaxValue ? -1 : (long)(context.Deadline - DateTime.UtcNow).TotalMilliseconds;
}
