namespace ReadHistory.Rpc;

/// <summary>The response stream of a server-streaming handler.</summary>
/// <typeparam name="T">The response message.</typeparam>
public interface IServerStreamWriter<in T> : IAsyncStreamWriter<T>
{
}
