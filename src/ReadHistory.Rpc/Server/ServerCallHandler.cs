using Microsoft.AspNetCore.Http;
using ReadHistory.Rpc.Internal;

namespace ReadHistory.Rpc.Server;

/// <summary>
/// The request delegate of one mapped method: checks that the request is gRPC, runs the call, and turns every
/// way a call can end (return, RpcException, deadline, client gone, any other exception) into one status.
/// </summary>
internal abstract class ServerCallHandler
{
    protected ServerCallHandler(IMethod method, GrpcServerSettings settings)
    {
        Method = method;
        Settings = settings;
    }

    public IMethod Method { get; }

    protected GrpcServerSettings Settings { get; }

    /// <summary>The ASP.NET Core endpoint delegate.</summary>
    public async Task HandleCallAsync(HttpContext httpContext)
    {
        if (!GrpcRequestValidation.TryAccept(httpContext, Settings))
        {
            return;
        }

        var call = new HttpServerCallContext(httpContext, Settings, Method);
        try
        {
            call.Initialize(streamingRequest: Method.Type is MethodType.ClientStreaming or MethodType.DuplexStreaming);
            await HandleCallCoreAsync(call).ConfigureAwait(false);
            var status = call.DeadlineExceeded ? GrpcStatuses.DeadlineExceeded : call.Status;
            call.WriteStatus(status, null);
        }
        catch (Exception ex)
        {
            EndWithError(call, ex);
        }
        finally
        {
            call.Dispose();
        }
    }

    /// <summary>Reads the request, runs the handler and writes the response messages; the status is written by the caller.</summary>
    protected abstract Task HandleCallCoreAsync(HttpServerCallContext call);

    /// <summary>Writes the one response of a unary or client-streaming handler, unless the call already has another ending.</summary>
    protected static void WriteSingleResponse(HttpServerCallContext call, Google.Protobuf.IMessage? response)
    {
        if (call.DeadlineExceeded || call.Status.StatusCode != StatusCode.OK)
        {
            return;
        }

        call.WriteMessage(response ?? throw new InvalidOperationException("the handler returned no response message"));
    }

    private void EndWithError(HttpServerCallContext call, Exception exception)
    {
        Status status;
        Metadata? trailers = null;
        var aborted = call.HttpContext.RequestAborted.IsCancellationRequested;
        if (exception is RpcException rpc && !(call.DeadlineExceeded && rpc.StatusCode == StatusCode.Cancelled))
        {
            status = rpc.Status;
            trailers = rpc.Trailers;
            Log.CallFailed(Settings.Logger, Method.FullName, status.StatusCode, status.Detail);
        }
        else if (call.DeadlineExceeded)
        {
            status = GrpcStatuses.DeadlineExceeded;
            Log.DeadlineExceeded(Settings.Logger, Method.FullName);
        }
        else if (aborted)
        {
            // The client reset the stream or went away: nobody reads what is written now.
            Log.ClientCancelled(Settings.Logger, Method.FullName);
            return;
        }
        else
        {
            Log.HandlerFailed(Settings.Logger, Method.FullName, exception);
            status = Settings.EnableDetailedErrors
                ? new Status(StatusCode.Unknown, $"{GrpcStatuses.HandlerException.Detail} {exception.GetType().Name}: {exception.Message}")
                : GrpcStatuses.HandlerException;
        }

        try
        {
            call.WriteStatus(status, trailers);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ObjectDisposedException)
        {
            Log.StatusWriteFailed(Settings.Logger, Method.FullName, ex);
        }
    }
}
