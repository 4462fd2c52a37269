namespace ReadHistory.Rpc;

/// <summary>Per-call settings on the client: request headers, deadline, cancellation.</summary>
public readonly struct CallOptions
{
    /// <summary>Creates call options.</summary>
    /// <param name="headers">Custom metadata to send.</param>
    /// <param name="deadline">When to give up (UTC); sent as <c>grpc-timeout</c> and enforced locally. Null = none.</param>
    /// <param name="cancellationToken">Cancels the call (the server sees the stream reset).</param>
    public CallOptions(Metadata? headers = null, DateTime? deadline = null, CancellationToken cancellationToken = default)
    {
        Headers = headers;
        Deadline = deadline;
        CancellationToken = cancellationToken;
    }

    /// <summary>Custom metadata to send; null = none.</summary>
    public Metadata? Headers { get; }

    /// <summary>The deadline (UTC); null or <see cref="DateTime.MaxValue"/> = none.</summary>
    public DateTime? Deadline { get; }

    /// <summary>Cancels the call.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>A copy with other headers.</summary>
    public CallOptions WithHeaders(Metadata? headers) => new(headers, Deadline, CancellationToken);

    /// <summary>A copy with another deadline.</summary>
    public CallOptions WithDeadline(DateTime? deadline) => new(Headers, deadline, CancellationToken);

    /// <summary>A copy with another cancellation token.</summary>
    public CallOptions WithCancellationToken(CancellationToken cancellationToken) => new(Headers, Deadline, cancellationToken);
}
