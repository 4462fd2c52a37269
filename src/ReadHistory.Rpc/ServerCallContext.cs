namespace ReadHistory.Rpc;

/// <summary>What a handler knows about the call it serves, and how it adds headers, trailers and a status.</summary>
public abstract class ServerCallContext
{
    /// <summary>The called method's path, e.g. <c>/readhistory.v1.ReadHistory/Check</c>.</summary>
    public string Method => MethodCore;

    /// <summary>The authority (host) the client called.</summary>
    public string Host => HostCore;

    /// <summary>The client's address, e.g. <c>ipv4:127.0.0.1:51234</c>.</summary>
    public string Peer => PeerCore;

    /// <summary>When the client stops waiting (UTC, from <c>grpc-timeout</c>); <see cref="DateTime.MaxValue"/> when it set none.</summary>
    public DateTime Deadline => DeadlineCore;

    /// <summary>The client's custom metadata (reserved and <c>grpc-</c> headers left out).</summary>
    public Metadata RequestHeaders => RequestHeadersCore;

    /// <summary>Fires when the deadline passes or the client cancels or goes away.</summary>
    public CancellationToken CancellationToken => CancellationTokenCore;

    /// <summary>Custom trailers sent after the response with the status; add to it before the handler returns.</summary>
    public Metadata ResponseTrailers => ResponseTrailersCore;

    /// <summary>The status to answer with when the handler returns normally; OK unless set.</summary>
    public Status Status
    {
        get => StatusCore;
        set => StatusCore = value;
    }

    /// <summary>Sends the response headers now, with this custom metadata; at most once, before the first message.</summary>
    public Task WriteResponseHeadersAsync(Metadata responseHeaders) => WriteResponseHeadersAsyncCore(responseHeaders);

    /// <summary>See <see cref="Method"/>.</summary>
    protected abstract string MethodCore { get; }

    /// <summary>See <see cref="Host"/>.</summary>
    protected abstract string HostCore { get; }

    /// <summary>See <see cref="Peer"/>.</summary>
    protected abstract string PeerCore { get; }

    /// <summary>See <see cref="Deadline"/>.</summary>
    protected abstract DateTime DeadlineCore { get; }

    /// <summary>See <see cref="RequestHeaders"/>.</summary>
    protected abstract Metadata RequestHeadersCore { get; }

    /// <summary>See <see cref="CancellationToken"/>.</summary>
    protected abstract CancellationToken CancellationTokenCore { get; }

    /// <summary>See <see cref="ResponseTrailers"/>.</summary>
    protected abstract Metadata ResponseTrailersCore { get; }

    /// <summary>See <see cref="Status"/>.</summary>
    protected abstract Status StatusCore { get; set; }

    /// <summary>See <see cref="WriteResponseHeadersAsync"/>.</summary>
    protected abstract Task WriteResponseHeadersAsyncCore(Metadata responseHeaders);
}
