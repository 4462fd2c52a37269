using System.Globalization;
using System.Net.Sockets;
using Google.Protobuf;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using ReadHistory.Rpc.Internal;

namespace ReadHistory.Rpc.Server;

/// <summary>
/// One call on the server: the <see cref="ServerCallContext"/> a handler sees, plus the protocol work around the
/// handler (deadline, message writes, the status at the end). Lives for one request; not thread-safe (one writer at a time).
/// </summary>
internal sealed class HttpServerCallContext : ServerCallContext, IDisposable
{
    /// <summary>Timers cannot wait longer than this; a longer grpc-timeout sets the deadline but no timer.</summary>
    private static readonly TimeSpan MaxTimerDue = TimeSpan.FromMilliseconds(uint.MaxValue - 2);

    private readonly HttpContext _httpContext;
    private readonly GrpcServerSettings _settings;
    private readonly IMethod _method;
    private CancellationTokenSource? _deadlineCts;
    private ITimer? _deadlineTimer;
    private volatile bool _deadlineExceeded;
    private Metadata? _requestHeaders;
    private Metadata? _responseTrailers;
    private Status _status = Status.DefaultSuccess;
    private DateTime _deadline = DateTime.MaxValue;
    private bool _responseStarted;
    private bool _compressResponses;

    public HttpServerCallContext(HttpContext httpContext, GrpcServerSettings settings, IMethod method)
    {
        _httpContext = httpContext;
        _settings = settings;
        _method = method;
    }

    /// <summary>The call's <c>grpc-encoding</c>, null when it sent none.</summary>
    public string? RequestEncoding { get; private set; }

    /// <summary>True once the deadline timer fired.</summary>
    public bool DeadlineExceeded => _deadlineExceeded;

    public HttpContext HttpContext => _httpContext;

    public GrpcServerSettings Settings => _settings;

    protected override string MethodCore => _method.FullName;

    protected override string HostCore => _httpContext.Request.Host.Value ?? string.Empty;

    protected override string PeerCore => FormatPeer(_httpContext.Connection);

    protected override DateTime DeadlineCore => _deadline;

    protected override Metadata RequestHeadersCore => _requestHeaders ??= MetadataHeaders.FromHeaders(_httpContext.Request.Headers);

    protected override CancellationToken CancellationTokenCore => _deadlineCts?.Token ?? _httpContext.RequestAborted;

    protected override Metadata ResponseTrailersCore => _responseTrailers ??= [];

    protected override Status StatusCore
    {
        get => _status;
        set => _status = value;
    }

    /// <summary>Reads the call's protocol headers, starts the deadline timer and sets the response headers every answer has.</summary>
    public void Initialize(bool streamingRequest)
    {
        var requestHeaders = _httpContext.Request.Headers;
        var encoding = requestHeaders.GrpcEncoding;
        RequestEncoding = encoding.Count > 0 ? encoding.ToString() : null;

        var timeout = requestHeaders.GrpcTimeout;
        if (timeout.Count > 0)
        {
            StartDeadline(timeout.ToString());
        }

        var bodySize = _httpContext.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (bodySize is { IsReadOnly: false })
        {
            // The message limit guards memory; a stream's total size is not limited.
            bodySize.MaxRequestBodySize = null;
        }

        if (streamingRequest && _httpContext.Features.Get<IHttpMinRequestBodyDataRateFeature>() is { } rate)
        {
            // A request stream may sit idle between messages for as long as the call lives.
            rate.MinDataRate = null;
        }

        var response = _httpContext.Response;
        response.ContentType = GrpcProtocolConstants.ContentType;
        var responseHeaders = response.Headers;
        responseHeaders.GrpcAcceptEncoding = GrpcProtocolConstants.AcceptedEncodingsValue;
        if (_settings.CompressResponses && MessageCompression.AcceptsGzip(requestHeaders.GrpcAcceptEncoding.ToString()))
        {
            _compressResponses = true;
            responseHeaders.GrpcEncoding = GrpcProtocolConstants.GzipEncodingValue;
        }
    }

    /// <summary>Reads the next request message; null at the end of the request stream.</summary>
    public ValueTask<T?> ReadMessageAsync<T>(MessageParser<T> parser, CancellationToken cancellationToken)
        where T : class, IMessage<T> =>
        GrpcMessageReading.ReadMessageAsync(_httpContext.Request.BodyReader, parser, _settings.MaxReceiveMessageSize, RequestEncoding, cancellationToken);

    /// <summary>Frames a response message into the body writer (not flushed); over the send limit is RESOURCE_EXHAUSTED.</summary>
    public void WriteMessage(IMessage message)
    {
        var size = message.CalculateSize();
        if (size > _settings.MaxSendMessageSize)
        {
            throw new RpcException(GrpcStatuses.SentMessageTooLarge(size, _settings.MaxSendMessageSize));
        }

        _responseStarted = true;
        var writer = _httpContext.Response.BodyWriter;
        if (_compressResponses)
        {
            MessageCompression.WriteCompressedMessage(writer, message, size, _settings.CompressionLevel);
        }
        else
        {
            GrpcFraming.WriteMessage(writer, message, size);
        }
    }

    /// <summary>Frames a message given in its encoded form (not flushed); over the send limit is RESOURCE_EXHAUSTED.</summary>
    public void WriteEncodedMessage(ReadOnlySpan<byte> payload)
    {
        if (payload.Length > _settings.MaxSendMessageSize)
        {
            throw new RpcException(GrpcStatuses.SentMessageTooLarge(payload.Length, _settings.MaxSendMessageSize));
        }

        _responseStarted = true;
        var writer = _httpContext.Response.BodyWriter;
        if (_compressResponses)
        {
            MessageCompression.WriteCompressedPayload(writer, payload, _settings.CompressionLevel);
        }
        else
        {
            GrpcFraming.WritePayload(writer, payload, compressed: false);
        }
    }

    /// <summary>Sends what was written so far.</summary>
    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        var result = await _httpContext.Response.BodyWriter.FlushAsync(cancellationToken).ConfigureAwait(false);
        if (result.IsCanceled)
        {
            throw new OperationCanceledException("the write was cancelled");
        }
    }

    /// <summary>
    /// Ends the call with a status: in the trailers after a message or sent headers, or in the headers of a
    /// trailers-only response when nothing was sent yet (PROTOCOL-HTTP2.md, "Trailers-Only").
    /// </summary>
    public void WriteStatus(Status status, Metadata? extraTrailers)
    {
        var response = _httpContext.Response;
        IHeaderDictionary target;
        if (!_responseStarted && !response.HasStarted)
        {
            target = response.Headers;
        }
        else
        {
            target = _httpContext.Features.Get<IHttpResponseTrailersFeature>()?.Trailers
                ?? throw new InvalidOperationException("this HTTP response cannot carry trailers (gRPC needs HTTP/2)");
        }

        target.GrpcStatus = GrpcProtocolConstants.StatusValue(status.StatusCode);
        if (status.Detail.Length > 0)
        {
            target.GrpcMessage = PercentEncoding.Encode(status.Detail);
        }

        if (_responseTrailers is { Count: > 0 })
        {
            MetadataHeaders.WriteTo(_responseTrailers, target);
        }

        if (extraTrailers is { Count: > 0 })
        {
            MetadataHeaders.WriteTo(extraTrailers, target);
        }
    }

    public void Dispose()
    {
        _deadlineTimer?.Dispose();
        _deadlineCts?.Dispose();
    }

    protected override async Task WriteResponseHeadersAsyncCore(Metadata responseHeaders)
    {
        ArgumentNullException.ThrowIfNull(responseHeaders);
        if (_responseStarted || _httpContext.Response.HasStarted)
        {
            throw new InvalidOperationException("Response headers can only be sent once per call, before the first message.");
        }

        MetadataHeaders.WriteTo(responseHeaders, _httpContext.Response.Headers);
        _responseStarted = true;
        await _httpContext.Response.StartAsync(CancellationTokenCore).ConfigureAwait(false);
    }

    private static string FormatPeer(ConnectionInfo connection)
    {
        var address = connection.RemoteIpAddress;
        if (address is null)
        {
            return "unknown";
        }

        return address.AddressFamily == AddressFamily.InterNetworkV6
            ? string.Create(CultureInfo.InvariantCulture, $"ipv6:[{address}]:{connection.RemotePort}")
            : string.Create(CultureInfo.InvariantCulture, $"ipv4:{address}:{connection.RemotePort}");
    }

    private void StartDeadline(string value)
    {
        if (!GrpcTimeout.TryParse(value, out var timeout))
        {
            Log.InvalidTimeout(_settings.Logger, _method.FullName, value);
            return;
        }

        var now = _settings.TimeProvider.GetUtcNow().UtcDateTime;
        _deadline = timeout < DateTime.MaxValue - now ? now + timeout : DateTime.MaxValue;
        _deadlineCts = CancellationTokenSource.CreateLinkedTokenSource(_httpContext.RequestAborted);
        if (timeout <= MaxTimerDue)
        {
            _deadlineTimer = _settings.TimeProvider.CreateTimer(static state => ((HttpServerCallContext)state!).OnDeadline(), this, timeout, Timeout.InfiniteTimeSpan);
        }
    }

    private void OnDeadline()
    {
        _deadlineExceeded = true;
        try
        {
            _deadlineCts?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The call ended while the timer fired: nothing left to cancel.
        }
    }
}
