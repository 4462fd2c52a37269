namespace ReadHistory.Server.Coherence;

/// <summary>
/// An ApplyChangesRequest already in protobuf wire format (<see cref="PeerBatch.Encode"/>): what a peer sender hands
/// the transport, which copies the bytes as they are (<see cref="ApplyChangesMethods.Encoded"/>). One per sender, reused
/// for each call (one call in flight per peer).
/// </summary>
internal sealed class EncodedChanges
{
    private byte[] _buffer = new byte[4096];

    /// <summary>The encoded message; valid until the call that carries it completes.</summary>
    public ReadOnlyMemory<byte> Bytes { get; private set; }

    /// <summary>Encodes <paramref name="batch"/> after <paramref name="header"/> (pool and slot) into the reused buffer.</summary>
    public void Encode(PeerBatch batch, ReadOnlySpan<byte> header)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var length = batch.Encode(header, ref _buffer);
        Bytes = _buffer.AsMemory(0, length);
    }
}
