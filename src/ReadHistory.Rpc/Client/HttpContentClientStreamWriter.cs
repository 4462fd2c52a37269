using System.Buffers;
using Google.Protobuf;
using ReadHistory.Rpc.Internal;

namespace ReadHistory.Rpc.Client;

/// <summary>The request stream of a client-streaming call; one write at a time, each flushed.</summary>
internal sealed class HttpContentClientStreamWriter<TRequest, TResponse> : IClientStreamWriter<TRequest>
    where TRequest : class, IMessage<TRequest>
    where TResponse : class, IMessage<TResponse>
{
    private readonly GrpcCall<TRequest, TResponse> _call;
    private readonly PushStreamContent _content;
    private readonly Task<TResponse> _response;
    private bool _writing;
    private bool _completed;

    public HttpContentClientStreamWriter(GrpcCall<TRequest, TResponse> call, PushStreamContent content, Task<TResponse> response)
    {
        _call = call;
        _content = content;
        _response = response;
    }

    public Task WriteAsync(TRequest message) => WriteAsync(message, CancellationToken.None);

    public async Task WriteAsync(TRequest message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (_completed)
        {
            throw new InvalidOperationException("Request stream has already been completed.");
        }

        if (_call.IsFinished)
        {
            throw _call.FinishedException();
        }

        if (_writing)
        {
            throw new InvalidOperationException("Can't write the message because the previous write is in progress.");
        }

        var size = message.CalculateSize();
        if (size > _call.MaxSendMessageSize)
        {
            throw _call.Fail(new RpcException(GrpcStatuses.SentMessageTooLarge(size, _call.MaxSendMessageSize)));
        }

        _writing = true;
        var buffer = ClientFraming.FrameMessage(message, size, _call.CompressRequests, out var length);
        try
        {
            var token = cancellationToken.CanBeCanceled ? cancellationToken : _call.CallToken;
            var stream = await _content.StreamAsync.WaitAsync(token).ConfigureAwait(false);
            await stream.WriteAsync(buffer.AsMemory(0, length), token).ConfigureAwait(false);
            await stream.FlushAsync(token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not InvalidOperationException)
        {
            // The stream broke because the call ended (the server answered early, the deadline passed, the peer reset):
            // report the call's own status rather than the transport's symptom.
            try
            {
                await _response.ConfigureAwait(false);
            }
            catch (RpcException)
            {
                // The status is read below.
            }

            throw _call.IsFinished ? _call.FinishedException() : _call.Fail(ex);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            _writing = false;
        }
    }

    public Task CompleteAsync()
    {
        _completed = true;
        _content.Complete();
        return Task.CompletedTask;
    }
}
