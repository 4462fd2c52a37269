using System.Net;

namespace ReadHistory.Rpc.Client;

/// <summary>
/// The body of a client-streaming call: hands the HTTP/2 request stream to the writer and holds the body open
/// until the writer completes it (END_STREAM) or the call ends.
/// </summary>
internal sealed class PushStreamContent : HttpContent
{
    private readonly TaskCompletionSource<Stream> _stream = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _complete = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The request stream, once HttpClient starts sending the body.</summary>
    public Task<Stream> StreamAsync => _stream.Task;

    /// <summary>Ends the body: HttpClient sends END_STREAM.</summary>
    public void Complete() => _complete.TrySetResult();

    /// <summary>The call ended: writers waiting for the stream give up and the body ends.</summary>
    public void Abort()
    {
        _stream.TrySetCanceled();
        _complete.TrySetResult();
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        _stream.TrySetResult(stream);
        await _complete.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override bool TryComputeLength(out long length)
    {
        length = -1;
        return false;
    }
}
