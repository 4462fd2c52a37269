using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using System.Net.Http.Headers;
using Google.Protobuf;
using ReadHistory.Rpc.Internal;

namespace ReadHistory.Rpc.Client;

/// <summary>
/// One client call over HTTP/2: builds the request, enforces the deadline locally, reads the response messages
/// and turns every ending (trailers, trailers-only, non-200 HTTP status, stream reset, deadline, cancellation)
/// into one final status. Partial: <c>GrpcCall.Response.cs</c> reads the answer.
/// </summary>
internal sealed partial class GrpcCall<TRequest, TResponse> : IClientCallState
    where TRequest : class, IMessage<TRequest>
    where TResponse : class, IMessage<TResponse>
{
    private static readonly MediaTypeHeaderValue GrpcContentTypeHeader = new(GrpcProtocolConstants.ContentType);
    private static readonly TimeSpan MaxTimerDue = TimeSpan.FromMilliseconds(uint.MaxValue - 2);

    private readonly GrpcChannel _channel;
    private readonly Method<TRequest, TResponse> _method;
    private readonly CallOptions _options;
    private readonly CancellationTokenSource _cts = new();
    private readonly string? _timeoutHeader;
    private readonly bool _deadlinePassedBeforeStart;
    private CancellationTokenRegistration _userCancellation;
    private ITimer? _deadlineTimer;
    private volatile bool _deadlineExceeded;
    private volatile bool _disposed;
    private HttpRequestMessage? _request;
    private HttpResponseMessage? _response;
    private PipeReader? _reader;
    private string? _responseEncoding;
    private PushStreamContent? _pushContent;

    // Guarded by lock (_cts): the end of the call and the response headers, which other threads may ask for.
    private bool _finished;
    private Status _finalStatus;
    private Metadata? _trailers;
    private RpcException? _failure;
    private bool _headersKnown;
    private TaskCompletionSource<Metadata>? _headersTcs;

    public GrpcCall(GrpcChannel channel, Method<TRequest, TResponse> method, CallOptions options)
    {
        _channel = channel;
        _method = method;
        _options = options;
        if (options.Deadline is { } deadline && deadline != DateTime.MaxValue)
        {
            var timeout = deadline.ToUniversalTime() - channel.TimeProvider.GetUtcNow().UtcDateTime;
            if (timeout <= TimeSpan.Zero)
            {
                _deadlinePassedBeforeStart = true;
                _deadlineExceeded = true;
            }
            else
            {
                _timeoutHeader = GrpcTimeout.Format(timeout);
                if (timeout <= MaxTimerDue)
                {
                    _deadlineTimer = channel.TimeProvider.CreateTimer(static s => ((GrpcCall<TRequest, TResponse>)s!).OnDeadline(), this, timeout, Timeout.InfiniteTimeSpan);
                }
            }
        }

        if (options.CancellationToken.CanBeCanceled)
        {
            _userCancellation = options.CancellationToken.UnsafeRegister(static s => ((GrpcCall<TRequest, TResponse>)s!).CancelTransport(), this);
        }
    }

    public Task<Metadata> ResponseHeadersAsync
    {
        get
        {
            lock (_cts)
            {
                if (_headersTcs is null)
                {
                    _headersTcs = new TaskCompletionSource<Metadata>(TaskCreationOptions.RunContinuationsAsynchronously);
                    if (_headersKnown)
                    {
                        _headersTcs.SetResult(MetadataHeaders.FromHeaders(_response!.Headers));
                    }
                    else if (_finished)
                    {
                        _headersTcs.SetException(_failure ?? new RpcException(GrpcStatuses.MissingResponseMessage));
                    }
                }

                return _headersTcs.Task;
            }
        }
    }

    /// <summary>Starts a unary call; the task is the response.</summary>
    public Task<TResponse> StartUnary(TRequest request) => RunSingleResponseAsync(request, null);

    /// <summary>Starts a client-streaming call; the task is the response.</summary>
    public Task<TResponse> StartClientStreaming(out IClientStreamWriter<TRequest> writer)
    {
        _pushContent = new PushStreamContent();
        _pushContent.Headers.ContentType = GrpcContentTypeHeader;
        var response = RunSingleResponseAsync(null, _pushContent);
        writer = new HttpContentClientStreamWriter<TRequest, TResponse>(this, _pushContent, response);
        return response;
    }

    /// <summary>Starts a server-streaming call; read the responses from the reader.</summary>
    public IAsyncStreamReader<TResponse> StartServerStreaming(TRequest request) =>
        new HttpContentClientStreamReader<TRequest, TResponse>(this, StartServerStreamingAsync(request));

    public Status GetStatus()
    {
        lock (_cts)
        {
            return _finished ? _finalStatus : throw new InvalidOperationException("Unable to get the status because the call is not complete.");
        }
    }

    public Metadata GetTrailers()
    {
        lock (_cts)
        {
            return _finished
                ? _trailers ??= LoadTrailers()
                : throw new InvalidOperationException("Can't get the call trailers because the call has not completed successfully.");
        }
    }

    public void Dispose()
    {
        _disposed = true;
        if (!IsFinished)
        {
            CancelTransport();
            Finish(GrpcStatuses.ClientCancelled, Metadata.Empty);
        }
    }

    internal int MaxSendMessageSize => _channel.MaxSendMessageSize;

    internal bool CompressRequests => _channel.CompressRequests;

    internal CancellationToken CallToken => _cts.Token;

    internal bool IsFinished
    {
        get
        {
            lock (_cts)
            {
                return _finished;
            }
        }
    }

    /// <summary>The exception a caller gets for a call that already ended.</summary>
    internal Exception FinishedException()
    {
        lock (_cts)
        {
            return _failure ?? (Exception)new InvalidOperationException("The call has already completed.");
        }
    }

    /// <summary>Maps any failure to the call's final status (first ending wins), aborts the transport, and returns what to throw.</summary>
    internal RpcException Fail(Exception exception)
    {
        lock (_cts)
        {
            if (_finished && _failure is not null)
            {
                return _failure;
            }
        }

        var (status, trailers) = ToStatus(exception);
        CancelTransport();
        Finish(status, trailers);
        lock (_cts)
        {
            return _failure ?? new RpcException(status, trailers);
        }
    }

    /// <summary>
    /// Records the final status once and frees what the call holds. Null trailers are read from the response's
    /// trailing headers only when asked for, so a successful call that nobody asks for trailers builds none.
    /// </summary>
    internal void Finish(Status status, Metadata? trailers)
    {
        TaskCompletionSource<Metadata>? headers = null;
        lock (_cts)
        {
            if (_finished)
            {
                return;
            }

            _finished = true;
            _finalStatus = status;
            _trailers = trailers?.Freeze();
            if (status.StatusCode != StatusCode.OK)
            {
                _trailers ??= LoadTrailers();
                _failure = new RpcException(status, _trailers);
            }

            if (!_headersKnown)
            {
                headers = _headersTcs;
            }
        }

        if (headers is not null)
        {
            headers.TrySetException(_failure ?? new RpcException(GrpcStatuses.MissingResponseMessage));
        }

        _deadlineTimer?.Dispose();
        _userCancellation.Dispose();
        _pushContent?.Abort();

        // The pipe reader is completed by the reading path only (CompleteReader): completing it here, from Dispose
        // or a timer, could hand its buffers back to the pool while a read still writes into them.
        _response?.Dispose();
        _request?.Dispose();
    }

    /// <summary>Sends the request and checks the response headers. False when the call already ended (error, trailers-only).</summary>
    private async Task<bool> SendAsync(HttpContent content)
    {
        if (_deadlinePassedBeforeStart)
        {
            throw new RpcException(GrpcStatuses.DeadlineExceeded);
        }

        var request = new HttpRequestMessage(HttpMethod.Post, _channel.GetMethodUri(_method))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = content,
        };
        _request = request;
        var headers = request.Headers;
        headers.TryAddWithoutValidation(GrpcProtocolConstants.TeHeader, GrpcProtocolConstants.TeTrailers);
        headers.TryAddWithoutValidation("user-agent", GrpcProtocolConstants.UserAgent);
        headers.TryAddWithoutValidation(GrpcProtocolConstants.AcceptEncodingHeader, GrpcProtocolConstants.AcceptedEncodings);
        if (_channel.CompressRequests)
        {
            headers.TryAddWithoutValidation(GrpcProtocolConstants.EncodingHeader, GrpcProtocolConstants.GzipEncoding);
        }

        if (_timeoutHeader is not null)
        {
            headers.TryAddWithoutValidation(GrpcProtocolConstants.TimeoutHeader, _timeoutHeader);
        }

        if (_options.Headers is { Count: > 0 } metadata)
        {
            MetadataHeaders.WriteTo(metadata, headers);
        }

        var response = await _channel.HttpInvoker.SendAsync(request, _cts.Token).ConfigureAwait(false);
        _response = response;
        if (IsFinished)
        {
            // Disposed or failed while the headers were on their way: Finish has already run, so free the answer here.
            response.Dispose();
            throw FinishedException();
        }
        if (CheckResponseHeaders(response) is { } ended)
        {
            SetHeadersKnown();
            Finish(ended.Status, ended.Trailers);
            return false;
        }

        _responseEncoding = HeaderValue(response.Headers, GrpcProtocolConstants.EncodingHeader);
        SetHeadersKnown();
        var stream = await response.Content.ReadAsStreamAsync(_cts.Token).ConfigureAwait(false);
        _reader = PipeReader.Create(stream, _channel.ReaderOptions);
        return true;
    }

    /// <summary>The status of an answer that ends at its headers, or null for one that carries messages.</summary>
    private static (Status Status, Metadata Trailers)? CheckResponseHeaders(HttpResponseMessage response)
    {
        if (response.StatusCode != HttpStatusCode.OK)
        {
            // http-grpc-status-mapping.md: without a 200 the grpc-status, if any, is not trusted.
            var code = HttpStatusMapping.FromHttpStatus(response.StatusCode);
            return (new Status(code, string.Create(CultureInfo.InvariantCulture, $"Bad gRPC response. HTTP status code: {(int)response.StatusCode}")), Metadata.Empty);
        }

        var grpcStatus = HeaderValue(response.Headers, GrpcProtocolConstants.StatusTrailer);
        if (grpcStatus is not null)
        {
            // Trailers-only: the status and the trailers came in the headers.
            return (ParseStatus(grpcStatus, HeaderValue(response.Headers, GrpcProtocolConstants.MessageTrailer)), MetadataHeaders.FromHeaders(response.Headers));
        }

        var contentType = HeaderValue(response.Content.Headers, "Content-Type");
        if (!GrpcProtocolConstants.IsGrpcContentType(contentType))
        {
            return (new Status(StatusCode.Internal, $"Bad gRPC response. Invalid content-type value: {contentType}"), Metadata.Empty);
        }

        return null;
    }

    internal static Status ParseStatus(string grpcStatus, string? grpcMessage)
    {
        var detail = grpcMessage is null ? string.Empty : PercentEncoding.Decode(grpcMessage);
        return int.TryParse(grpcStatus, NumberStyles.None, CultureInfo.InvariantCulture, out var code)
            ? new Status((StatusCode)code, detail)
            : new Status(StatusCode.Unknown, $"Unexpected grpc-status value '{grpcStatus}'. {detail}");
    }

    /// <summary>Returns the reader's buffers; called only by the code that reads, once it reads no more.</summary>
    private void CompleteReader()
    {
        var reader = _reader;
        _reader = null;
        reader?.Complete();
    }

    private Metadata LoadTrailers() =>
        _response is null ? Metadata.Empty : MetadataHeaders.FromHeaders(_response.TrailingHeaders).Freeze();

    private static string? HeaderValue(HttpHeaders headers, string name) =>
        headers.NonValidated.TryGetValues(name, out var values) ? values.ToString() : null;

    private void SetHeadersKnown()
    {
        TaskCompletionSource<Metadata>? waiting;
        lock (_cts)
        {
            _headersKnown = true;
            waiting = _headersTcs;
        }

        waiting?.TrySetResult(MetadataHeaders.FromHeaders(_response!.Headers));
    }

    private (Status Status, Metadata Trailers) ToStatus(Exception exception)
    {
        if (exception is RpcException rpc && !(rpc.StatusCode == StatusCode.Cancelled && _deadlineExceeded))
        {
            return (rpc.Status, rpc.Trailers);
        }

        if (_deadlineExceeded)
        {
            return (GrpcStatuses.DeadlineExceeded, Metadata.Empty);
        }

        if (exception is OperationCanceledException && (_options.CancellationToken.IsCancellationRequested || _disposed || _cts.IsCancellationRequested))
        {
            return (new Status(StatusCode.Cancelled, GrpcStatuses.ClientCancelled.Detail, exception), Metadata.Empty);
        }

        var reset = FindProtocolException(exception);
        if (reset is not null)
        {
            var code = HttpStatusMapping.FromHttp2Error(reset.ErrorCode);
            return (new Status(code, $"The HTTP/2 stream ended with an error. {reset.GetType().Name}: {reset.Message}", exception), Metadata.Empty);
        }

        return exception switch
        {
            HttpRequestException => (new Status(StatusCode.Unavailable, $"Error starting gRPC call. {exception.GetType().Name}: {exception.Message}", exception), Metadata.Empty),
            IOException => (new Status(StatusCode.Unavailable, $"Error reading the response. {exception.GetType().Name}: {exception.Message}", exception), Metadata.Empty),
            OperationCanceledException => (new Status(StatusCode.Cancelled, GrpcStatuses.ClientCancelled.Detail, exception), Metadata.Empty),
            _ => (new Status(StatusCode.Internal, $"Error in the gRPC call. {exception.GetType().Name}: {exception.Message}", exception), Metadata.Empty),
        };
    }

    private static HttpProtocolException? FindProtocolException(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is HttpProtocolException protocol)
            {
                return protocol;
            }
        }

        return null;
    }

    private void OnDeadline()
    {
        _deadlineExceeded = true;
        CancelTransport();
    }

    private void CancelTransport()
    {
        try
        {
            _cts.Cancel();
        }
        catch (AggregateException)
        {
            // A callback registered on the token threw; the call is cancelled all the same.
        }
    }
}
