using System.Collections.Concurrent;
using System.Threading.Channels;
using Grpc.Core;
using ReadHistory.Server.Api;
using ReadHistory.Server.Api.Admission;

namespace ReadHistory.Server.Proxy;

/// <summary>
/// One long-lived CacheNode.Exchange stream to a node: requests in flight are kept by id until their answer, deadline or
/// cancellation (<see cref="PendingExchange"/>); one writer sends what is queued, several requests per message; one
/// reader completes the requests its answers name. The stream is opened when made and used until it breaks (the
/// node went away, it stopped, a message could not be read): then every request in flight on it fails UNAVAILABLE, a
/// replica failure the failover walk moves on from, and the owner opens a new stream for the next request.
/// </summary>
internal sealed class ExchangeStream : IDisposable
{
    // A request message stops growing past either bound.
    private const int MaxRequestsPerMessage = 256;
    private const int MaxBytesPerMessage = 1 << 20;

    private readonly AsyncDuplexStreamingCall<ExchangeBatch, List<ExchangeAnswer>> _call;
    // Read by the writer and, once the stream broke, by Break (which gives back what the writer never took).
    private readonly Channel<PendingExchange> _queue = Channel.CreateUnbounded<PendingExchange>();
    private readonly ConcurrentDictionary<ulong, PendingExchange> _inFlight = new();
    private readonly string _address;
    private readonly TimeProvider _time;
    private readonly NodeExchange? _owner;
    private long _lastId;
    private Exception? _broken;

    /// <summary>Opens the stream on <paramref name="invoker"/> (the replica's channel) and starts its writer and reader; <paramref name="owner"/> hears when it breaks.</summary>
    public ExchangeStream(CallInvoker invoker, string address, TimeProvider time, NodeExchange? owner = null)
    {
        _owner = owner;
        ArgumentNullException.ThrowIfNull(invoker);
        _address = address;
        _time = time;
        _call = invoker.AsyncDuplexStreamingCall(ExchangeMethods.Exchange, null, default);
        _ = WriteAsync();
        _ = ReadAsync();
    }

    /// <summary>Whether the stream broke (no request is sent on it any more).</summary>
    public bool IsBroken => Volatile.Read(ref _broken) is not null;

    /// <summary>Requests in flight on the stream.</summary>
    public int InFlight => _inFlight.Count;

    /// <summary>
    /// Sends <paramref name="request"/> as a <paramref name="call"/> and returns the node's answer as bytes; fails as the
    /// unary call would: the node's status (with its retry hint and cause as trailers), DEADLINE_EXCEEDED at
    /// <paramref name="deadline"/>, CANCELLED when <paramref name="cancellationToken"/> fires, UNAVAILABLE when the stream breaks.
    /// </summary>
    public Task<RelayedAnswer> SendAsync(ExchangeCall call, ForwardedRequest request, DateTime deadline, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var pending = new PendingExchange(this, (ulong)Interlocked.Increment(ref _lastId), call, request, deadline);
        _inFlight[pending.Id] = pending;
        if (Volatile.Read(ref _broken) is { } broken)
        {
            _inFlight.TryRemove(pending.Id, out _);
            pending.Fail(Unavailable(broken));
            return pending.Task;
        }

        pending.Arm(_time, cancellationToken);
        request.Retain();
        if (!_queue.Writer.TryWrite(pending))
        {
            // Broke meanwhile: Break failed the request (it was in flight) or fails it now.
            request.Release();
            _inFlight.TryRemove(pending.Id, out _);
            pending.Fail(Unavailable(Volatile.Read(ref _broken)));
        }

        return pending.Task;
    }

    /// <summary>Forgets request <paramref name="id"/>, which nobody waits for any more (its answer, if any, is dropped).</summary>
    public void Forget(ulong id) => _inFlight.TryRemove(id, out _);

    /// <summary>Tells the node to stop working on request <paramref name="id"/> (its caller went away).</summary>
    public void SendCancel(ulong id) => _queue.Writer.TryWrite(PendingExchange.CancelNotice(id));

    /// <summary>Closes the stream; the requests in flight fail UNAVAILABLE.</summary>
    public void Dispose() => Break(new ObjectDisposedException(nameof(ExchangeStream), "the replica was removed from the topology"));

    private async Task WriteAsync()
    {
        var reader = _queue.Reader;
        var batch = new ExchangeBatch();
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                batch.Now = _time.GetUtcNow().UtcDateTime;
                while (batch.Items.Count < MaxRequestsPerMessage && batch.Bytes < MaxBytesPerMessage && reader.TryRead(out var item))
                {
                    // A request whose caller no longer waits (deadline, cancellation) is not sent at all.
                    if (!item.IsCancelNotice && item.Task.IsCompleted)
                    {
                        item.Request!.Release();
                        continue;
                    }

                    batch.Add(item);
                }

                if (batch.Items.Count == 0)
                {
                    continue;
                }

                await _call.RequestStream.WriteAsync(batch).ConfigureAwait(false);
                ReleaseAll(batch);
            }
        }
        catch (Exception e)
        {
            ReleaseAll(batch);
            Break(e);
        }
    }

    private async Task ReadAsync()
    {
        try
        {
            var answers = _call.ResponseStream;
            while (await answers.MoveNext(CancellationToken.None).ConfigureAwait(false))
            {
                foreach (var answer in answers.Current)
                {
                    Deliver(answer);
                }
            }

            Break(new RpcException(new Status(StatusCode.Unavailable, "the node ended the stream (it is stopping)")));
        }
        catch (Exception e)
        {
            Break(e);
        }
    }

    private void Deliver(in ExchangeAnswer answer)
    {
        if (!_inFlight.TryRemove(answer.Id, out var pending))
        {
            // Its caller stopped waiting (deadline, cancellation) before the answer came.
            answer.Answer?.Release();
            return;
        }

        if (answer.StatusCode != 0)
        {
            pending.Fail(new RpcException(new Status((StatusCode)answer.StatusCode, answer.StatusDetail), TrailersOf(answer)));
        }
        else if (answer.Answer is null || answer.AnswerField != (int)pending.Call + 3)
        {
            answer.Answer?.Release();
            pending.Fail(new RpcException(new Status(StatusCode.Internal, $"the cache node at {_address} answered a {pending.Call} with answer field {answer.AnswerField}")));
        }
        else
        {
            pending.Answer(answer.Answer);
        }
    }

    // The unary call's trailers, for the callers that read them (the retry hint, the database cause).
    private static Metadata TrailersOf(in ExchangeAnswer answer)
    {
        var trailers = new Metadata();
        if (answer.RetryAfterMs != 0)
        {
            trailers.Add(AdmissionControl.RetryAfterTrailer, answer.RetryAfterMs.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        if (answer.Cause.Length != 0)
        {
            trailers.Add(StorageStatus.CauseTrailer, answer.Cause);
        }

        return trailers;
    }

    private void Break(Exception cause)
    {
        if (Interlocked.CompareExchange(ref _broken, cause, null) is not null)
        {
            return;
        }

        _queue.Writer.TryComplete();
        _owner?.Broke(cause, _inFlight.Count);
        var failure = Unavailable(cause);
        foreach (var id in _inFlight.Keys)
        {
            if (_inFlight.TryRemove(id, out var pending))
            {
                pending.Fail(failure);
            }
        }

        // What the writer never took: give the buffers back.
        while (_queue.Reader.TryRead(out var queued))
        {
            queued.Request?.Release();
        }

        _call.Dispose();
    }

    private static void ReleaseAll(ExchangeBatch batch)
    {
        foreach (var item in batch.Items)
        {
            item.Request?.Release();
        }

        batch.Clear();
    }

    private RpcException Unavailable(Exception? cause) =>
        new(new Status(StatusCode.Unavailable, $"the Exchange stream to the cache node at {_address} broke: {cause?.Message}", cause));
}
