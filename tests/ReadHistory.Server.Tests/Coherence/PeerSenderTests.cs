using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using ReadHistory.Api.Internal.V1;
using ReadHistory.Server.Coherence;
using ReadHistory.Server.Storage;
using ReadHistory.TestSupport;
using Xunit;

namespace ReadHistory.Server.Tests.Coherence;

/// <summary>The per-peer sender of the fan-out against a fake peer: batching, the wait bound, the queue bound, backoff.</summary>
public sealed class PeerSenderTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromMilliseconds(5);
    private readonly ManualTimeProvider _time = new();
    private readonly FakePeerTransport _peer = new();
    private readonly PeerFanOutMetrics _metrics = new("feed");
    private PeerSender? _sender;

    public void Dispose() => _sender?.Dispose();

    [Fact]
    public async Task A_batch_carries_the_pool_the_slot_and_the_changes_in_commit_order_with_runs_of_one_user_merged()
    {
        var sender = Sender();
        var held = sender.EnqueueInserts(1, 2, Reads(100));
        var first = await _peer.NextCallAsync().AsTask().DefaultTimeout();
        _ = sender.EnqueueInserts(7, 2, Reads(10, 11));
        _ = sender.EnqueueInserts(7, 2, Reads(12));
        _ = sender.EnqueueDeleteUser(8);
        _ = sender.EnqueueInserts(7, 3, Reads(13));
        first.Answer.SetResult();

        var second = await _peer.NextCallAsync().AsTask().DefaultTimeout();

        Assert.Equal("feed", second.Request.Pool);
        Assert.Equal(3u, second.Request.Slot);
        Assert.Collection(
            second.Request.Changes,
            c => Assert.Equal(new UserChanges { UserId = 7, ContentType = 2, ContentIds = { 10, 11, 12 } }, c),
            c => Assert.Equal(new UserChanges { UserId = 8, DeleteUser = true }, c),
            c => Assert.Equal(new UserChanges { UserId = 7, ContentType = 3, ContentIds = { 13 } }, c));
        Assert.NotNull(held);
    }

    [Fact]
    public async Task Only_one_call_is_in_flight_and_the_writes_meanwhile_go_in_one_next_call()
    {
        var sender = Sender();
        _ = sender.EnqueueInserts(1, 0, Reads(1));
        var first = await _peer.NextCallAsync().AsTask().DefaultTimeout();
        for (ulong i = 0; i < 50; i++)
        {
            _ = sender.EnqueueInserts(100 + i, 0, Reads(i));
        }

        Assert.False(_peer.HasPendingCall);
        first.Answer.SetResult();
        var second = await _peer.NextCallAsync().AsTask().DefaultTimeout();
        second.Answer.SetResult();

        Assert.Equal(50, second.Changes);
        await Poll.UntilAsync(() => sender.Queued == 0, "the second call to be acknowledged");
        Assert.Equal(51, _metrics.Sent);
        Assert.Equal(2, _metrics.CallsOk);
        Assert.Equal(2, _peer.Started);
    }

    [Fact]
    public async Task A_writer_waits_for_the_peers_acknowledgement_of_its_batch()
    {
        var sender = Sender(wait: TimeSpan.FromSeconds(1));
        var ack = sender.EnqueueInserts(1, 0, Reads(1))!;
        var call = await _peer.NextCallAsync().AsTask().DefaultTimeout();

        Assert.False(ack.IsCompleted);
        call.Answer.SetResult();
        await ack.DefaultTimeout();
        Assert.Equal(_time.GetUtcNow().UtcDateTime + TimeSpan.FromMilliseconds(500), call.Deadline);
    }

    [Fact]
    public async Task A_writer_stops_waiting_once_the_wait_bound_elapsed_while_the_call_is_still_in_flight()
    {
        var sender = Sender();
        var ack = sender.EnqueueInserts(1, 0, Reads(1))!;
        var call = await _peer.NextCallAsync().AsTask().DefaultTimeout();
        var later = sender.EnqueueInserts(2, 0, Reads(2))!;

        _time.Advance(Wait - TimeSpan.FromTicks(1));
        Assert.False(ack.IsCompleted);
        _time.Advance(TimeSpan.FromTicks(1));

        await ack.DefaultTimeout();
        Assert.True(later.IsCompleted, "the batch gathering behind the call opened at the same time and is due too");
        Assert.Equal(0, _metrics.CallsOk + _metrics.CallsFailed);
        call.Answer.SetResult();
    }

    [Fact]
    public async Task A_writer_asking_until_applied_waits_past_the_bound_for_the_peers_acknowledgement_or_its_failure()
    {
        var sender = Sender();
        var bounded = sender.EnqueueInserts(1, 0, Reads(1))!;
        var applied = sender.EnqueueInserts(1, 0, Reads(2), untilApplied: true)!;
        var call = await _peer.NextCallAsync().AsTask().DefaultTimeout();

        _time.Advance(Wait * 10);
        await bounded.DefaultTimeout();
        Assert.False(applied.IsCompleted, "the bound released a writer that asked to wait until the peer applied its rows");
        call.Answer.SetResult();
        if (call.Changes < 2)
        {
            // The sender opened its call with the first write alone (its loop ran between the two enqueues): the
            // second travels in the next call, which must be answered too.
            (await _peer.NextCallAsync().AsTask().DefaultTimeout()).Answer.SetResult();
        }

        await applied.DefaultTimeout();

        var failing = sender.EnqueueInserts(3, 0, Reads(3), untilApplied: true)!;
        (await _peer.NextCallAsync().AsTask().DefaultTimeout()).Answer.SetException(new RpcException(new Status(StatusCode.Unavailable, "down")));
        await failing.DefaultTimeout(); // a failing peer is not waited for, whatever the writer asked
        Assert.Null(sender.EnqueueInserts(4, 0, Reads(4), untilApplied: true));
    }

    [Fact]
    public void With_no_wait_configured_a_writer_gets_nothing_to_wait_for()
    {
        var sender = Sender(wait: TimeSpan.Zero);

        Assert.Null(sender.EnqueueInserts(1, 0, Reads(1)));
        Assert.Equal(0, _time.ArmedTimers);
    }

    [Fact]
    public async Task Past_the_queue_bound_changes_are_dropped_and_counted_without_waiting()
    {
        var sender = Sender(maxQueued: 3);
        _ = sender.EnqueueInserts(1, 0, Reads(1, 2));
        var call = await _peer.NextCallAsync().AsTask().DefaultTimeout();

        Assert.NotNull(sender.EnqueueInserts(2, 0, Reads(3)));
        Assert.Null(sender.EnqueueInserts(3, 0, Reads(4, 5)));

        Assert.Equal(2, _metrics.DroppedQueueFull);
        Assert.Equal(3, sender.Queued);
        call.Answer.SetResult();
    }

    [Fact]
    public async Task A_write_larger_than_a_call_spans_calls_and_its_writer_waits_for_the_last()
    {
        var sender = Sender(maxPerCall: 3, wait: TimeSpan.FromSeconds(1));
        var ack = sender.EnqueueInserts(1, 4, Reads(1, 2, 3, 4, 5, 6, 7))!;
        var sizes = new List<int>();
        for (var i = 0; i < 3; i++)
        {
            Assert.False(ack.IsCompleted);
            var call = await _peer.NextCallAsync().AsTask().DefaultTimeout();
            sizes.Add(call.Changes);
            call.Answer.SetResult();
        }

        await ack.DefaultTimeout();
        Assert.Equal([3, 3, 1], sizes);
    }

    [Fact]
    public async Task A_failing_peer_releases_its_writers_keeps_what_is_queued_and_sends_it_again_after_the_backoff()
    {
        var sender = Sender(wait: TimeSpan.FromSeconds(1));
        var ack = sender.EnqueueInserts(1, 0, Reads(1))!;
        var call = await _peer.NextCallAsync().AsTask().DefaultTimeout();
        var queued = sender.EnqueueInserts(2, 0, Reads(2, 3))!;

        call.Answer.SetException(new RpcException(new Status(StatusCode.Unavailable, "connection refused")));

        await ack.DefaultTimeout();
        await queued.DefaultTimeout();
        Assert.True(sender.InBackoff);
        Assert.Null(sender.EnqueueInserts(3, 0, Reads(4))); // queued, but nobody waits for a failing peer
        Assert.Equal(4, sender.Queued);
        Assert.Equal(1, _metrics.CallsFailed);
        Assert.Equal(0, _metrics.DroppedQueueFull);

        _time.Advance(TimeSpan.FromMilliseconds(99));
        Assert.False(_peer.HasPendingCall);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        var sent = new List<ulong>();
        while (sent.Count < 4)
        {
            var again = await _peer.NextCallAsync().AsTask().DefaultTimeout();
            sent.AddRange(again.Request.Changes.SelectMany(static c => c.ContentIds));
            again.Answer.SetResult();
        }

        Assert.Equal([1UL, 2, 3, 4], sent);
        await Poll.UntilAsync(() => sender.Queued == 0, "every change to be acknowledged");
        Assert.False(sender.InBackoff);
        Assert.Equal(4, _metrics.Sent);
        Assert.NotNull(sender.EnqueueInserts(4, 0, Reads(5))); // a peer that answers again is waited for again
    }

    [Fact]
    public async Task Backoff_doubles_while_the_peer_keeps_failing()
    {
        var sender = Sender();
        _ = sender.EnqueueInserts(1, 0, Reads(1));
        (await _peer.NextCallAsync().AsTask().DefaultTimeout()).Answer.SetException(new RpcException(new Status(StatusCode.DeadlineExceeded, "deadline")));
        await Poll.UntilAsync(() => sender.InBackoff, "the first failure to back the peer off");
        _time.Advance(TimeSpan.FromMilliseconds(100));
        var second = await _peer.NextCallAsync().AsTask().DefaultTimeout();
        Assert.Equal([1UL], second.Request.Changes.SelectMany(static c => c.ContentIds));
        second.Answer.SetException(new RpcException(new Status(StatusCode.Unavailable, "down")));
        await Poll.UntilAsync(() => _metrics.CallsFailed == 2, "the second failure to be counted");

        _time.Advance(TimeSpan.FromMilliseconds(199));
        Assert.False(_peer.HasPendingCall);
        Assert.True(sender.InBackoff);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        (await _peer.NextCallAsync().AsTask().DefaultTimeout()).Answer.SetResult();
        await Poll.UntilAsync(() => !sender.InBackoff, "a success to end the backoff");
        Assert.Equal(1, _metrics.Sent);
    }

    [Fact]
    public async Task Disposing_releases_every_waiting_writer()
    {
        var sender = Sender(wait: TimeSpan.FromSeconds(1));
        var ack = sender.EnqueueInserts(1, 0, Reads(1))!;
        await _peer.NextCallAsync().AsTask().DefaultTimeout();
        var queued = sender.EnqueueInserts(2, 0, Reads(2))!;

        sender.Dispose();

        await ack.DefaultTimeout();
        await queued.DefaultTimeout();
        Assert.Null(sender.EnqueueInserts(3, 0, Reads(3)));
    }

    private PeerSender Sender(TimeSpan? wait = null, int maxQueued = 1000, int maxPerCall = 1000)
    {
        var header = new ApplyChangesRequest { Pool = "feed", Slot = 3 }.ToByteArray();
        var settings = new PeerFanOutSettings(wait ?? Wait, maxQueued, maxPerCall, TimeSpan.FromMilliseconds(500));
        _sender = new PeerSender(new Uri("http://127.0.0.1:1"), _peer, header, settings, _metrics, _time, NullLogger.Instance);
        return _sender;
    }

    private static StoredRead[] Reads(params ulong[] ids) => [.. ids.Select(static id => new StoredRead(id, 0))];
}
