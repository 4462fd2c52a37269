namespace ReadHistory.Rpc;

/// <summary>The request stream of a client-streaming call.</summary>
/// <typeparam name="T">The request message.</typeparam>
public interface IClientStreamWriter<in T> : IAsyncStreamWriter<T>
{
    /// <summary>Ends the request stream (half-close); the server then answers.</summary>
    Task CompleteAsync();
}
