using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ReadHistory.Api.Internal.V1;
using ReadHistory.Rpc;
using ReadHistory.Rpc.Health;
using ReadHistory.Rpc.Server;
using ReadHistory.Server.Cache;

namespace ReadHistory.Server.Tests.Cache;

/// <summary>
/// A warm-start peer for tests: CacheNode.Snapshot over a <see cref="ReadThroughCache"/>, served by our gRPC layer on
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
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenGrpc(new IPEndPoint(IPAddress.Loopback, 0)));
        builder.Services.AddGrpcServer();
        var app = builder.Build();
        SnapshotPeer? peer = null;
        var sender = new SnapshotSender(cursors);
        // Serving, so that a starting node probing its peers' health picks this one.
        var health = new HealthService();
        health.SetStatus(string.Empty, ReadHistory.Rpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving);
        app.MapGrpcService(health.CreateDefinition());
        app.MapGrpcService(ServerServiceDefinition.CreateBuilder(CacheNodeMethods.ServiceName)
            .AddServerStreamingMethod(CacheNodeMethods.Snapshot, (request, stream, context) => sender.SendAsync(cache, request, new TamperingWriter(peer!, stream), context.CancellationToken))
            .Build());
        await app.StartAsync().WaitAsync(CacheTestKit.TestTimeout);
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        peer = new SnapshotPeer(app, address);
        return peer;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().WaitAsync(CacheTestKit.TestTimeout);
        await _app.DisposeAsync();
    }

    /// <summary>A cursor source that always answers the same bytes.</summary>
    internal sealed class FixedCursor(byte[] cursor) : SnapshotCursorSource
    {
        public override ReadOnlyMemory<byte> Current => cursor;
    }

    private sealed class TamperingWriter(SnapshotPeer peer, IServerStreamWriter<SnapshotChunk> inner) : IServerStreamWriter<SnapshotChunk>
    {
        public Task WriteAsync(SnapshotChunk message) => WriteAsync(message, CancellationToken.None);

        public async Task WriteAsync(SnapshotChunk message, CancellationToken cancellationToken)
        {
            var index = Interlocked.Increment(ref peer._chunks) - 1;
            if (peer.Tamper is { } tamper)
            {
                message = await tamper(message, index, cancellationToken);
            }

            await inner.WriteAsync(message, cancellationToken);
        }
    }
}
