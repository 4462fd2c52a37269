using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using System.Threading.RateLimiting;
using Google.Protobuf;
using Grpc.Core;
using ReadHistory.Api.Internal.V1;
using ReadHistory.Api.V1;
using ReadHistory.Server.Api.Admission;
using ReadHistory.Server.Hosting;

namespace ReadHistory.Server.Api.Internal;

/// <summary>
/// One Exchange stream on a cache node: requests are read in a loop and each is started at once (a hit completes
/// inline, a miss or a write runs on), admitted and counted as its unary call would be; answers go through one channel
/// to one writer, which packs what is ready into each message. When the sender closes its side, or the node stops,
/// the requests in flight are answered before the stream ends; when the stream breaks, they are cancelled.
/// </summary>
internal sealed class ExchangeSession
{
    // An answer message stops growing past either bound (the proxy accepts 64 MiB; a big Filter answer goes alone).
    private const int MaxAnswersPerMessage = 256;
    private const int MaxBytesPerMessage = 1 << 20;

    // A timeout longer than this is taken as this (an hour is past every budget of the service).
    private const ulong MaxTimeoutMicros = 3_600_000_000;

    // Each kind of request: the full name of its unary method (the handlers' context) and its metric label.
    private static readonly Kind CheckKind = new("/readhistory.internal.v1.CacheNode/Check", "CacheNode.Check", CallClass.Checks);
    private static readonly Kind FilterKind = new("/readhistory.internal.v1.CacheNode/Filter", "CacheNode.Filter", CallClass.Checks);
    private static readonly Kind MarkReadKind = new("/readhistory.internal.v1.CacheNode/MarkRead", "CacheNode.MarkRead", CallClass.Writes);

    private readonly CacheNode.CacheNodeBase _service;
    private readonly ExchangeHost _host;
    private readonly ServerCallContext _stream;
    private readonly Channel<ExchangeResponse> _answers = Channel.CreateUnbounded<ExchangeResponse>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<ulong, ExchangeCallContext> _inFlight = new();
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _reading;

    // Requests in flight, plus one while the reading loop runs: zero means everything read was answered.
    private int _open = 1;

    /// <summary>A session for one Exchange call, whose requests <paramref name="service"/> answers.</summary>
    public ExchangeSession(CacheNode.CacheNodeBase service, ExchangeHost host, ServerCallContext stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(host);
        _service = service;
        _host = host;
        _stream = stream;
        _reading = CancellationTokenSource.CreateLinkedTokenSource(stream.CancellationToken, host.Stopping);
    }

    /// <summary>Serves the stream until the sender closes it (then every request read is answered first) or it breaks.</summary>
    public async Task RunAsync(IAsyncStreamReader<ExchangeRequests> requests, IServerStreamWriter<ExchangeResponses> responses)
    {
        ArgumentNullException.ThrowIfNull(requests);
        var writer = WriteAnswersAsync(responses);
        Exception? failure = null;
        try
        {
            while (await requests.MoveNext(_reading.Token).ConfigureAwait(false))
            {
                foreach (var request in requests.Current.Requests)
                {
                    Dispatch(request);
                }
            }
        }
        catch (OperationCanceledException) when (!_stream.CancellationToken.IsCancellationRequested)
        {
            // The node is stopping (or the writer failed): no new requests; those in flight are answered, then the stream ends.
        }
        catch (Exception e)
        {
            failure = e;
        }
        finally
        {
            Close();
        }

        using (_stream.CancellationToken.Register(static state => ((ExchangeSession)state!).CancelAll(), this))
        {
            if (failure is not null)
            {
                CancelAll();
            }

            await _drained.Task.ConfigureAwait(false);
        }

        _answers.Writer.TryComplete();
        await writer.ConfigureAwait(false);
        _reading.Dispose();
        if (failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }
    }

    private void Dispatch(ExchangeRequest request)
    {
        if (request.Cancel)
        {
            if (_inFlight.TryGetValue(request.Id, out var cancelled))
            {
                cancelled.CancelBySender();
            }

            return;
        }

        var started = Stopwatch.GetTimestamp();
        var kind = request.CallCase switch
        {
            ExchangeRequest.CallOneofCase.Check => CheckKind,
            ExchangeRequest.CallOneofCase.Filter => FilterKind,
            ExchangeRequest.CallOneofCase.MarkRead => MarkReadKind,
            _ => null,
        };

        if (kind is null)
        {
            _answers.Writer.TryWrite(Failed(request.Id, StatusCode.InvalidArgument, "call: required (check, filter or mark_read) unless cancel is set"));
            return;
        }

        RateLimitLease lease;
        try
        {
            lease = _host.Admission.Enter(kind.Class);
        }
        catch (RpcException refused)
        {
            _host.Metrics.Record(kind.Label, refused.StatusCode, Stopwatch.GetElapsedTime(started));
            _answers.Writer.TryWrite(Failed(request.Id, refused));
            return;
        }

        var timeout = TimeSpan.FromMicroseconds(Math.Min(request.TimeoutMicros, MaxTimeoutMicros));
        var context = new ExchangeCallContext(_stream, kind.Method, request.Id, timeout, _host.Time);
        if (!_inFlight.TryAdd(request.Id, context))
        {
            context.Dispose();
            lease.Dispose();
            _answers.Writer.TryWrite(Failed(request.Id, StatusCode.InvalidArgument, $"id: {request.Id} is already in flight on this stream"));
            return;
        }

        Interlocked.Increment(ref _open);
        var state = new Call(context, kind, lease, started);
        switch (request.CallCase)
        {
            case ExchangeRequest.CallOneofCase.Check:
                Track(Start(static (s, r, c) => s.Check(r.Check, c), request, context), state);
                break;
            case ExchangeRequest.CallOneofCase.Filter:
                Track(Start(static (s, r, c) => s.Filter(r.Filter, c), request, context), state);
                break;
            default:
                Track(Start(static (s, r, c) => s.MarkRead(r.MarkRead, c), request, context), state);
                break;
        }
    }

    // The handler's task; a handler that throws before its first await (validation) gives a faulted task.
    private Task<T> Start<T>(Func<CacheNode.CacheNodeBase, ExchangeRequest, ServerCallContext, Task<T>> handler, ExchangeRequest request, ExchangeCallContext context)
    {
        try
        {
            return handler(_service, request, context);
        }
        catch (Exception e)
        {
            return Task.FromException<T>(e);
        }
    }

    private void Track<T>(Task<T> call, Call state)
        where T : IMessage
    {
        if (call.IsCompleted)
        {
            Finish(call, state);
        }
        else
        {
            _ = FinishAsync(call, state);
        }
    }

    private async Task FinishAsync<T>(Task<T> call, Call state)
        where T : IMessage
    {
        await ((Task)call).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        Finish(call, state);
    }

    private void Finish<T>(Task<T> call, Call state)
        where T : IMessage
    {
        var context = state.Context;
        ExchangeResponse answer;
        if (call.IsCompletedSuccessfully)
        {
            answer = new ExchangeResponse { Id = context.Id };
            switch (call.Result)
            {
                case CheckResponse check:
                    answer.Check = check;
                    break;
                case FilterResponse filter:
                    answer.Filter = filter;
                    break;
                case MarkReadResponse markRead:
                    answer.MarkRead = markRead;
                    break;
            }
        }
        else
        {
            answer = Failed(context.Id, call.Exception?.InnerException ?? new OperationCanceledException(), context);
        }

        _host.Metrics.Record(state.Kind.Label, (StatusCode)answer.StatusCode, Stopwatch.GetElapsedTime(state.Started));
        state.Lease.Dispose();
        _inFlight.TryRemove(context.Id, out _);
        context.Dispose();
        if (!context.CancelledBySender)
        {
            _answers.Writer.TryWrite(answer);
        }

        if (Interlocked.Decrement(ref _open) == 0)
        {
            _drained.TrySetResult();
        }
    }

    private ExchangeResponse Failed(ulong id, Exception exception, ExchangeCallContext context)
    {
        if (exception is RpcException rpc)
        {
            return Failed(id, rpc);
        }

        switch (RpcMetricsInterceptor.CodeOf(exception, context, _host.Time))
        {
            case StatusCode.DeadlineExceeded:
                return Failed(id, StatusCode.DeadlineExceeded, "the request's timeout passed on the cache node");
            case StatusCode.Cancelled:
                return Failed(id, StatusCode.Cancelled, "the request was cancelled (its sender or its stream went away)");
            default:
                Hosting.Log.CallFailed(_host.Logger, context.MethodName, nameof(StatusCode.Unknown), exception);
                return Failed(id, StatusCode.Unknown, "Exception was thrown by handler.");
        }
    }

    private static ExchangeResponse Failed(ulong id, RpcException rpc)
    {
        var answer = Failed(id, rpc.StatusCode, rpc.Status.Detail);
        if (rpc.Trailers.GetValue(AdmissionControl.RetryAfterTrailer) is { } retryAfter && uint.TryParse(retryAfter, NumberStyles.None, CultureInfo.InvariantCulture, out var ms))
        {
            answer.RetryAfterMs = ms;
        }

        if (rpc.Trailers.GetValue(StorageStatus.CauseTrailer) is { } cause)
        {
            answer.Cause = cause;
        }

        return answer;
    }

    private static ExchangeResponse Failed(ulong id, StatusCode code, string detail) => new() { Id = id, StatusCode = (int)code, StatusDetail = detail };

    private async Task WriteAnswersAsync(IServerStreamWriter<ExchangeResponses> responses)
    {
        var reader = _answers.Reader;
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                var message = new ExchangeResponses();
                var bytes = 0;
                while (message.Responses.Count < MaxAnswersPerMessage && bytes < MaxBytesPerMessage && reader.TryRead(out var answer))
                {
                    message.Responses.Add(answer);
                    bytes += answer.CalculateSize();
                }

                await responses.WriteAsync(message).ConfigureAwait(false);
            }
        }
        catch (Exception) when (_stream.CancellationToken.IsCancellationRequested)
        {
            // The stream is gone: the reading loop ends with it and cancels what is in flight.
        }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
            // The answers can no longer be sent: read no more, stop the work in flight.
            await _reading.CancelAsync().ConfigureAwait(false);
            CancelAll();
        }
    }

    private void Close()
    {
        if (Interlocked.Decrement(ref _open) == 0)
        {
            _drained.TrySetResult();
        }
    }

    private void CancelAll()
    {
        foreach (var (_, context) in _inFlight)
        {
            context.Cancel();
        }
    }

    // A kind of request: its unary method's full name and metric label, and its admission class.
    private sealed record Kind(string Method, string Label, CallClass Class);

    // One request in flight: its context, its kind, its admission permit, and when it arrived.
    private sealed record Call(ExchangeCallContext Context, Kind Kind, RateLimitLease Lease, long Started);
}
