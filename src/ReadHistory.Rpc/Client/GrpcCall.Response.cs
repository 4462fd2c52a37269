using ReadHistory.Rpc.Internal;

namespace ReadHistory.Rpc.Client;

/// <summary>The answer side of a call: one response (unary, client streaming) or a stream of them.</summary>
internal sealed partial class GrpcCall<TRequest, TResponse>
{
    /// <summary>
    /// Runs a call with one response: unary when <paramref name="request"/> is given, client streaming when
    /// <paramref name="streamingContent"/> is. Every failure, including one before sending, ends as the call's status.
    /// </summary>
    private async Task<TResponse> RunSingleResponseAsync(TRequest? request, PushStreamContent? streamingContent)
    {
        try
        {
            var content = streamingContent ?? (HttpContent)CreateUnaryContent(request!);
            if (!await SendAsync(content).ConfigureAwait(false))
            {
                return EndedWithoutMessage();
            }

            return await ReadSingleResponseAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            throw Fail(ex);
        }
        finally
        {
            CompleteReader();
        }
    }

    /// <summary>The body of a one-message request; over the channel's send limit is RESOURCE_EXHAUSTED, before anything is sent.</summary>
    private UnaryContent<TRequest> CreateUnaryContent(TRequest request)
    {
        var size = request.CalculateSize();
        if (size > _channel.MaxSendMessageSize)
        {
            throw new RpcException(GrpcStatuses.SentMessageTooLarge(size, _channel.MaxSendMessageSize));
        }

        var content = new UnaryContent<TRequest>(request, size, _channel.CompressRequests);
        content.Headers.ContentType = GrpcContentTypeHeader;
        return content;
    }

    /// <summary>Sends the request of a server-streaming call; false (never a fault) when the call ended early.</summary>
    private async Task<bool> StartServerStreamingAsync(TRequest request)
    {
        try
        {
            return await SendAsync(CreateUnaryContent(request)).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Fail(ex);
            return false;
        }
    }

    /// <summary>Reads the next streamed response; null at the end, after which the status is known (and thrown when not OK).</summary>
    internal async Task<TResponse?> ReadNextAsync(CancellationToken cancellationToken)
    {
        if (_reader is null)
        {
            // The stream already ended (or failed): answer as it ended.
            return GetStatus().StatusCode == StatusCode.OK ? null : throw FinishedException();
        }

        CancellationTokenSource? linked = null;
        try
        {
            var token = _cts.Token;
            if (cancellationToken.CanBeCanceled)
            {
                linked = CancellationTokenSource.CreateLinkedTokenSource(token, cancellationToken);
                token = linked.Token;
            }

            var message = await GrpcMessageReading.ReadMessageAsync(_reader!, _method.ResponseParser, _channel.MaxReceiveMessageSize, _responseEncoding, token, _method.ResponseDecoder).ConfigureAwait(false);
            if (message is not null)
            {
                return message;
            }

            CompleteReader();
            Finish(ReadTrailerStatus(), null);
            return GetStatus().StatusCode == StatusCode.OK ? null : throw FinishedException();
        }
        catch (Exception ex)
        {
            CompleteReader();
            if (cancellationToken.IsCancellationRequested && ex is OperationCanceledException)
            {
                CancelTransport();
                Finish(GrpcStatuses.ClientCancelled, Metadata.Empty);
            }

            throw Fail(ex);
        }
        finally
        {
            linked?.Dispose();
        }
    }

    private async Task<TResponse> ReadSingleResponseAsync()
    {
        var parser = _method.ResponseParser;
        var max = _channel.MaxReceiveMessageSize;
        var message = await GrpcMessageReading.ReadMessageAsync(_reader!, parser, max, _responseEncoding, _cts.Token, _method.ResponseDecoder).ConfigureAwait(false);
        if (message is not null
            && await GrpcMessageReading.ReadMessageAsync(_reader!, parser, max, _responseEncoding, _cts.Token, _method.ResponseDecoder).ConfigureAwait(false) is not null)
        {
            throw new RpcException(new Status(StatusCode.Internal, "Additional message received for a single-message response."));
        }

        var status = ReadTrailerStatus();
        if (status.StatusCode == StatusCode.OK && message is null)
        {
            status = GrpcStatuses.MissingResponseMessage;
        }

        Finish(status, null);
        return status.StatusCode == StatusCode.OK ? message! : throw FinishedException();
    }

    /// <summary>For unary answers that ended at the headers: an OK there is a protocol error, since no message came.</summary>
    private TResponse EndedWithoutMessage()
    {
        lock (_cts)
        {
            if (_failure is not null)
            {
                throw _failure;
            }
        }

        throw new RpcException(GrpcStatuses.MissingResponseMessage);
    }

    /// <summary>The status in the trailers (read once the body has ended); the trailers' metadata is built lazily.</summary>
    private Status ReadTrailerStatus()
    {
        var trailing = _response!.TrailingHeaders;
        var grpcStatus = HeaderValue(trailing, GrpcProtocolConstants.StatusTrailer);
        return grpcStatus is null
            ? GrpcStatuses.MissingStatus
            : ParseStatus(grpcStatus, HeaderValue(trailing, GrpcProtocolConstants.MessageTrailer));
    }
}
