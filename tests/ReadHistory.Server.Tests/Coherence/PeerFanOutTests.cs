using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using ReadHistory.Api.Internal.V1;
using ReadHistory.Server.Coherence;
using ReadHistory.Server.Storage;
using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.Server.Tests.Coherence;

/// <summary>The fan-out over several peers: a writer waits for every peer that is not backed off, and for none that is.</summary>
public sealed class PeerFanOutTests : IDisposable
{
    private readonly ManualTimeProvider _time = new();
    private readonly FakePeerTransport _first = new();
    private readonly FakePeerTransport _second = new();
    private readonly PeerFanOut _fanOut;

    public PeerFanOutTests()
    {
        var header = new ApplyChangesRequest { Pool = "feed", Slot = 0 }.ToByteArray();
        var settings = new PeerFanOutSettings(TimeSpan.FromSeconds(1), 1000, 1000, TimeSpan.FromSeconds(1));
        var metrics = new PeerFanOutMetrics("feed");
        _fanOut = new PeerFanOut(
            [
                new PeerSender(new Uri("http://127.0.0.1:1"), _first, header, settings, metrics, _time, NullLogger.Instance),
                new PeerSender(new Uri("http://127.0.0.1:2"), _second, header, settings, metrics, _time, NullLogger.Instance),
            ],
            metrics);
    }

    public void Dispose() => _fanOut.Dispose();

    [Fact]
    public async Task A_writer_waits_until_every_peer_acknowledged()
    {
        var write = _fanOut.PublishInsertsAsync(1, 0, [new StoredRead(10, 0)]).AsTask();
        var first = await _first.NextCallAsync().AsTask().DefaultTimeout();
        var second = await _second.NextCallAsync().AsTask().DefaultTimeout();

        first.Answer.SetResult();
        await Poll.UntilAsync(() => _fanOut.Senders[0].Queued == 0, "the first peer's acknowledgement");
        Assert.False(write.IsCompleted, "the writer went on before the second peer answered");
        second.Answer.SetResult();
        await write.DefaultTimeout();
    }

    [Fact]
    public async Task A_peer_in_backoff_is_not_waited_for()
    {
        var failing = _fanOut.PublishDeleteUserAsync(1).AsTask();
        (await _first.NextCallAsync().AsTask().DefaultTimeout()).Answer.SetException(new RpcException(new Status(StatusCode.Unavailable, "down")));
        (await _second.NextCallAsync().AsTask().DefaultTimeout()).Answer.SetResult();
        await failing.DefaultTimeout();

        var write = _fanOut.PublishInsertsAsync(2, 0, [new StoredRead(20, 0)]).AsTask();
        var call = await _second.NextCallAsync().AsTask().DefaultTimeout();
        Assert.False(write.IsCompleted);
        call.Answer.SetResult();

        await write.DefaultTimeout();
        Assert.True(_fanOut.Senders[0].InBackoff);
        Assert.Equal(2, _fanOut.Senders[0].Queued); // the Forget and the write, kept for the failing peer until it answers again
        Assert.Equal(0, _fanOut.Metrics.DroppedQueueFull);
    }
}
