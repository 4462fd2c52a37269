using Grpc.Core;
using Grpc.Net.Client;
using ReadHistory.Api;
using ReadHistory.Server.Tls;

namespace ReadHistory.Server.Coherence;

/// <summary>ApplyChanges over gRPC to one peer, on a channel of its own made like every internal client's (<see cref="ServiceChannels"/>).</summary>
internal sealed class GrpcPeerTransport : PeerTransport
{
    private readonly GrpcChannel _channel;
    private readonly CallInvoker _invoker;

    /// <summary>A transport to the peer at <paramref name="peer"/> (its internal gRPC address), over <paramref name="tls"/> when set.</summary>
    public GrpcPeerTransport(Uri peer, InternalTls? tls = null)
    {
        var handler = ServiceChannels.CreateHandler();
        tls?.ConfigureClient(handler);
        _channel = ServiceChannels.Create(peer, handler);
        _invoker = _channel.CreateCallInvoker();
    }

    /// <inheritdoc />
    public override async Task SendAsync(EncodedChanges request, DateTime deadline, CancellationToken cancellationToken)
    {
        using var call = _invoker.AsyncUnaryCall(ApplyChangesMethods.Encoded, null, new CallOptions(deadline: deadline, cancellationToken: cancellationToken), request);
        await call.ResponseAsync.ConfigureAwait(false);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _channel.Dispose();
        }

        base.Dispose(disposing);
    }
}
