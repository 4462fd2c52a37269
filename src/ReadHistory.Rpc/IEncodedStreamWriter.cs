namespace ReadHistory.Rpc;

/// <summary>
/// A response stream that also takes messages already in protobuf wire format, for a handler that encodes large
/// messages itself (no message object, no serializer pass). The server's own stream writers implement it; a handler
/// tests for it and falls back to <see cref="IAsyncStreamWriter{T}.WriteAsync(T, CancellationToken)"/> otherwise.
/// </summary>
public interface IEncodedStreamWriter
{
    /// <summary>
    /// Writes one message given as its encoded bytes, framed, compressed and flushed as a message object would be;
    /// completes once it is handed to the transport (the bytes may be reused then). The caller vouches that the bytes
    /// are a valid message of the method's response type: they are sent as they are.
    /// </summary>
    Task WriteEncodedAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken);
}
