using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Google.Protobuf;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using Grpc.HealthCheck;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ReadHistory.Api.Internal.V1;
using ReadHistory.Server.Cache;

namespace ReadHistory.TestSupport.Server;

/// <summary>
/// A warm-start peer for tests: CacheNode.Snapshot over a <see cref="ReadThroughCache"/>, served by Grpc.AspNetCore on
/// Kestrel (h2c, 127.0.0.1, port 0), with a gRPC health service reporting SERVING. <see cref="Tamper"/> may rewrite or hold each chunk on its way out.
/// </summary>
internal sealed class SnapshotPeer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _chunks;

    private SnapshotPeer(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    /// <summary>The peer's gRPC address.</summary>
    public Uri Address { get; }

    /// <summary>Chunks written to receivers so far.</summary>
    public int ChunksWritten => Volatile.Read(ref _chunks);

    /// <summary>Called with each chunk and its index before it is written; returns the chunk to write.</summary>
    public Func<SnapshotChunk, int, CancellationToken, Task<SnapshotChunk>>? Tamper { get; set; }

    /// <summary>Starts a peer serving <paramref name="cache"/>'s filters after <paramref name="cursor"/>.</summary>
    public static Task<SnapshotPeer> StartAsync(ReadThroughCache cache, byte[] cursor) => StartAsync(cache, new FixedCursor(cursor));

    /// <summary>Starts a peer serving <paramref name="cache"/>'s filters after the cursor <paramref name="cursors"/> gives at each Snapshot.</summary>
    public static async Task<SnapshotPeer> StartAsync(ReadThroughCache cache, SnapshotCursorSource cursors)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(new IPEndPoint(IPAddress.Loopback, 0), listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        var service = new PeerService(cache, new SnapshotSender(cursors));
        builder.Services.AddSingleton(service);
        builder.Services.AddSingleton<IServiceMethodProvider<PeerService>, PeerService.MethodProvider>();
        // Serving, so that a starting node probing its peers' health picks this one.
        var health = new HealthServiceImpl();
        health.SetStatus(string.Empty, Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving);
        builder.Services.AddSingleton(health);
        var app = builder.Build();
        app.MapGrpcService<HealthServiceImpl>();
        app.MapGrpcService<PeerService>();
        await app.StartAsync().DefaultTimeout();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        var peer = new SnapshotPeer(app, address);
        service.Peer = peer;
        return peer;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().DefaultTimeout();
        await _app.DisposeAsync();
    }

    /// <summary>A cursor source that always answers the same bytes.</summary>
    internal sealed class FixedCursor(byte[] cursor) : SnapshotCursorSource
    {
        public override ReadOnlyMemory<byte> Current => cursor;
    }

    /// <summary>CacheNode.Snapshot alone, bound with the node's own encoded-chunk method.</summary>
    internal sealed class PeerService(ReadThroughCache cache, SnapshotSender sender)
    {
        public SnapshotPeer? Peer { get; set; }

        public Task SnapshotAsync(SnapshotRequest request, IServerStreamWriter<EncodedSnapshotChunk> stream, ServerCallContext context) =>
            sender.SendAsync(cache, request, new TamperingWriter(Peer!, stream), context.CancellationToken);

        internal sealed class MethodProvider : IServiceMethodProvider<PeerService>
        {
            public void OnServiceMethodDiscovery(ServiceMethodProviderContext<PeerService> context) =>
                context.AddServerStreamingMethod(SnapshotMethods.Encoded, [], static (service, request, stream, callContext) => service.SnapshotAsync(request, stream, callContext));
        }
    }

    /// <summary>Counts each chunk and, with <see cref="Tamper"/> set, rewrites it as a message before it goes out.</summary>
    private sealed class TamperingWriter(SnapshotPeer peer, IServerStreamWriter<EncodedSnapshotChunk> inner) : IAsyncStreamWriter<EncodedSnapshotChunk>
    {
        public WriteOptions? WriteOptions { get; set; }

        public Task WriteAsync(EncodedSnapshotChunk message) => WriteAsync(message, CancellationToken.None);

        public async Task WriteAsync(EncodedSnapshotChunk message, CancellationToken cancellationToken)
        {
            var index = Interlocked.Increment(ref peer._chunks) - 1;
            if (peer.Tamper is { } tamper)
            {
                var chunk = await tamper(SnapshotChunk.Parser.ParseFrom(message.Bytes.Span), index, cancellationToken);
                message = new EncodedSnapshotChunk(chunk.ToByteArray());
            }

            await inner.WriteAsync(message, cancellationToken);
        }
    }
}
