namespace ReadHistory.Rpc;

/// <summary>Writes a stream of messages; one write at a time.</summary>
/// <typeparam name="T">The message type.</typeparam>
public interface IAsyncStreamWriter<in T>
{
    /// <summary>Writes one message; completes once it is handed to the transport.</summary>
    Task WriteAsync(T message);

    /// <summary>Writes one message, giving up when the token fires.</summary>
    Task WriteAsync(T message, CancellationToken cancellationToken);
}
