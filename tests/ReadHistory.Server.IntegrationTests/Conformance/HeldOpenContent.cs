using System.Net;
using System.Net.Http.Headers;
using ReadHistory.TestSupport;

namespace ReadHistory.Server.IntegrationTests.Conformance;

/// <summary>A gRPC request body that sends some bytes and then stays open, as a client streaming a huge or slow message would.</summary>
internal sealed class HeldOpenContent : HttpContent
{
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly byte[] _first;

    public HeldOpenContent(byte[] first)
    {
        _first = first;
        Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
    }

    /// <summary>Lets the body end.</summary>
    public void Release() => _release.TrySetResult();

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        await stream.WriteAsync(_first);
        await stream.FlushAsync();
        await _release.Task.DefaultTimeout();
    }

    protected override bool TryComputeLength(out long length)
    {
        length = -1;
        return false;
    }
}
