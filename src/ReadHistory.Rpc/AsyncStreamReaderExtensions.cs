using System.Runtime.CompilerServices;

namespace ReadHistory.Rpc;

/// <summary>Reads a stream with <c>await foreach</c>.</summary>
public static class AsyncStreamReaderExtensions
{
    /// <summary>Every message of the stream, in order.</summary>
    public static async IAsyncEnumerable<T> ReadAllAsync<T>(this IAsyncStreamReader<T> streamReader, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(streamReader);
        while (await streamReader.MoveNext(cancellationToken).ConfigureAwait(false))
        {
            yield return streamReader.Current;
        }
    }
}
