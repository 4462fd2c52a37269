namespace ReadHistory.Server.Cache;

/// <summary>
/// A SnapshotChunk message already in protobuf wire format (<see cref="SnapshotChunkEncoder"/>): what the warm-start
/// sender hands the transport, which copies the bytes as they are (<see cref="SnapshotMethods.Encoded"/>).
/// </summary>
internal sealed class EncodedSnapshotChunk(ReadOnlyMemory<byte> bytes)
{
    /// <summary>The encoded message; valid until the write that carries it completes.</summary>
    public ReadOnlyMemory<byte> Bytes { get; } = bytes;
}
