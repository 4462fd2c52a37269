namespace ReadHistory.Server.Coherence;

/// <summary>How a peer sender reaches its peer: one ApplyChanges call (gRPC in the node, a fake in unit tests).</summary>
internal abstract class PeerTransport : IDisposable
{
    /// <summary>Sends one encoded batch; completes when the peer acknowledged it, throws when the call failed.</summary>
    public abstract Task SendAsync(EncodedChanges request, DateTime deadline, CancellationToken cancellationToken);

    /// <inheritdoc />
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the transport's connections.</summary>
    protected virtual void Dispose(bool disposing)
    {
    }
}
