using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Grpc.Core;
using Microsoft.AspNetCore.Http.Features;

namespace ReadHistory.Server.Hosting;

/// <summary>
/// The request body of one gRPC call as Grpc.AspNetCore reads it (<see cref="IRequestBodyPipeFeature"/>), with two
/// changes: a call with one request message gets a deadline for it (<see cref="Api.RequestLimits.RequestBodyTimeout"/>),
/// and a client that resets or drops the call mid-request ends the read as CANCELLED rather than as an I/O exception
/// (which Grpc.AspNetCore would log as a handler error with its stack trace and answer UNKNOWN).
/// </summary>
internal sealed class GuardedRequestBody : PipeReader, IRequestBodyPipeFeature, IDisposable
{
    private const int Open = 0;
    private const int Ended = 1;
    private const int Expired = 2;

    // A status, not a shared exception: one exception object thrown from many calls at once has its stack trace
    // rewritten by each throw, so a log of one call could show another's.
    private static readonly Status ClientReset = new(StatusCode.Cancelled, "the client reset the call");
    private readonly PipeReader _inner;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;
    private readonly long _started;
    private ITimer? _timer;
    private int _state;

    /// <summary>
    /// Wraps <paramref name="inner"/>; a finite <paramref name="timeout"/> bounds the time from now until the body ends.
    /// The timer is made only when a read has to wait: a small request usually arrives whole with its headers, and
    /// then costs no timer at all.
    /// </summary>
    public GuardedRequestBody(PipeReader inner, TimeSpan timeout, TimeProvider time)
    {
        _inner = inner;
        _timeout = timeout;
        _time = time;
        _started = time.GetTimestamp();
    }

    /// <inheritdoc />
    public PipeReader Reader => this;

    /// <summary>Whether the body did not end within the timeout (the call was answered DEADLINE_EXCEEDED).</summary>
    public bool TimedOut => Volatile.Read(ref _state) == Expired;

    /// <summary>Whether the client reset or dropped the call before its body ended.</summary>
    public bool WasReset { get; private set; }

    /// <inheritdoc />
    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        if (_timer is null && _timeout != Timeout.InfiniteTimeSpan && Volatile.Read(ref _state) == Open)
        {
            if (TryRead(out var ready))
            {
                return new ValueTask<ReadResult>(ready);
            }

            var left = _timeout - _time.GetElapsedTime(_started);
            _timer = _time.CreateTimer(static state => ((GuardedRequestBody)state!).Expire(), this, left > TimeSpan.Zero ? left : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        }

        return WaitAsync(cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ReadResult> WaitAsync(CancellationToken cancellationToken)
    {
        ReadResult result;
        try
        {
            result = await _inner.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (IsClientGone(e, cancellationToken))
        {
            WasReset = true;
            throw new RpcException(ClientReset);
        }

        return Observe(result);
    }

    /// <inheritdoc />
    public override bool TryRead(out ReadResult result)
    {
        bool read;
        try
        {
            read = _inner.TryRead(out result);
        }
        catch (Exception e) when (IsClientGone(e, CancellationToken.None))
        {
            WasReset = true;
            throw new RpcException(ClientReset);
        }

        if (read)
        {
            result = Observe(result);
        }

        return read;
    }

    /// <inheritdoc />
    public override void AdvanceTo(SequencePosition consumed) => _inner.AdvanceTo(consumed);

    /// <inheritdoc />
    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined) => _inner.AdvanceTo(consumed, examined);

    /// <inheritdoc />
    public override void CancelPendingRead() => _inner.CancelPendingRead();

    /// <inheritdoc />
    public override void Complete(Exception? exception = null) => _inner.Complete(exception);

    /// <inheritdoc />
    public override ValueTask CompleteAsync(Exception? exception = null) => _inner.CompleteAsync(exception);

    /// <summary>Stops the deadline timer.</summary>
    public void Dispose() => _timer?.Dispose();

    // The read failed because the client went away: its reset (an I/O exception) or its dropped connection (Kestrel's
    // ConnectionAbortedException, an OperationCanceledException), not a token of the reader's own.
    private static bool IsClientGone(Exception exception, CancellationToken cancellationToken) =>
        exception is IOException || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    private ReadResult Observe(ReadResult result)
    {
        if (result.IsCompleted)
        {
            if (Interlocked.CompareExchange(ref _state, Ended, Open) == Open)
            {
                _timer?.Dispose();
            }
        }
        else if (result.IsCanceled && TimedOut)
        {
            throw new RpcException(new Status(StatusCode.DeadlineExceeded,
                $"the request message did not arrive within {_timeout.TotalSeconds:0.###} s ({Api.RequestLimits.Section}:{nameof(Api.RequestLimits.RequestBodyTimeout)})"));
        }

        return result;
    }

    // The deadline passed with the body still open: wake the pending read (or the next one), which then fails the call alone.
    private void Expire()
    {
        if (Interlocked.CompareExchange(ref _state, Expired, Open) == Open)
        {
            _inner.CancelPendingRead();
        }
    }
}
