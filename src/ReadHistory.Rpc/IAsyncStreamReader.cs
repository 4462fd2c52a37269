namespace ReadHistory.Rpc;

/// <summary>Reads a stream of messages one at a time (requests on the server, responses on the client).</summary>
/// <typeparam name="T">The message type.</typeparam>
public interface IAsyncStreamReader<out T>
{
    /// <summary>The message read by the last successful <see cref="MoveNext"/>.</summary>
    T Current { get; }

    /// <summary>Reads the next message; false at the end of the stream. Named as in Grpc.Core, so the package can replace this one.</summary>
    Task<bool> MoveNext(CancellationToken cancellationToken);
}
