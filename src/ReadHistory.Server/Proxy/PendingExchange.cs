using Grpc.Core;

namespace ReadHistory.Server.Proxy;

/// <summary>
/// One request of an Exchange stream, from its enqueueing until its answer, its deadline or its caller's cancellation,
/// whichever comes first (the others then do nothing): the task the forwarding call awaits, with the request's id,
/// kind, bytes (a reference to the client's buffer, and the internal request's length taken when it was sent, so a
/// later change of the flags by the failover walk cannot change what this attempt sends) and deadline. A cancel notice
/// is an entry of the queue with no request: it tells the node to stop working on an id nobody waits for.
/// </summary>
internal sealed class PendingExchange : TaskCompletionSource<RelayedAnswer>
{
    private static readonly TimerCallback ExpireCallback = static state => ((PendingExchange)state!).Expire();
    private static readonly Action<object?> AbandonCallback = static state => ((PendingExchange)state!).Abandon();

    private readonly ExchangeStream? _stream;
    private ITimer? _timer;
    private CancellationTokenRegistration _registration;

    /// <summary>Request <paramref name="id"/> of <paramref name="stream"/>, the internal bytes of <paramref name="request"/> as they are now.</summary>
    public PendingExchange(ExchangeStream stream, ulong id, ExchangeCall call, ForwardedRequest request, DateTime deadline)
        : base(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        ArgumentNullException.ThrowIfNull(request);
        _stream = stream;
        Id = id;
        Call = call;
        Request = request;
        Length = request.Internal.Length;
        Deadline = deadline;
    }

    private PendingExchange(ulong id)
        : base(TaskCreationOptions.None)
    {
        Id = id;
        Deadline = DateTime.MaxValue;
    }

    /// <summary>The request's id on its stream.</summary>
    public ulong Id { get; }

    /// <summary>The call; meaningless for a cancel notice.</summary>
    public ExchangeCall Call { get; }

    /// <summary>The client's request (one reference held while queued); null for a cancel notice.</summary>
    public ForwardedRequest? Request { get; }

    /// <summary>The length of the internal request to send (<see cref="ForwardedRequest.InternalPrefix"/>).</summary>
    public int Length { get; }

    /// <summary>When the caller stops waiting.</summary>
    public DateTime Deadline { get; }

    /// <summary>Whether this is a cancel notice rather than a request.</summary>
    public bool IsCancelNotice => Request is null;

    /// <summary>A notice that request <paramref name="id"/> was abandoned.</summary>
    public static PendingExchange CancelNotice(ulong id) => new(id);

    /// <summary>Starts the deadline's timer and follows the caller's cancellation (before the request is queued).</summary>
    public void Arm(TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(time);
        var due = Deadline - time.GetUtcNow().UtcDateTime;
        if (due <= TimeSpan.Zero)
        {
            Expire();
            return;
        }

        _timer = time.CreateTimer(ExpireCallback, this, due, Timeout.InfiniteTimeSpan);
        if (cancellationToken.CanBeCanceled)
        {
            _registration = cancellationToken.UnsafeRegister(AbandonCallback, this);
        }
    }

    /// <summary>Completes the request with the node's answer, or returns the answer's buffer when nobody waits any more.</summary>
    public void Answer(RelayedAnswer answer)
    {
        ArgumentNullException.ThrowIfNull(answer);
        if (TrySetResult(answer))
        {
            Disarm();
        }
        else
        {
            answer.Release();
        }
    }

    /// <summary>Fails the request (the node's status, or the stream's failure) unless it already ended.</summary>
    public void Fail(Exception exception)
    {
        if (TrySetException(exception))
        {
            Disarm();
        }
    }

    // As a unary call's deadline: the attempt ends DEADLINE_EXCEEDED (the node stops at the timeout it was sent, too).
    private void Expire()
    {
        if (TrySetException(new RpcException(new Status(StatusCode.DeadlineExceeded, "Deadline Exceeded"))))
        {
            _stream?.Forget(Id);
            Disarm();
        }
    }

    // As a unary call whose token fired: CANCELLED, and the node is told to stop.
    private void Abandon()
    {
        if (TrySetException(new RpcException(new Status(StatusCode.Cancelled, "the caller cancelled the call"))))
        {
            _stream?.Forget(Id);
            _stream?.SendCancel(Id);
            Disarm();
        }
    }

    private void Disarm()
    {
        _timer?.Dispose();
        _registration.Dispose();
    }
}
