using Grpc.Core;
using Grpc.Core.Interceptors;

namespace ReadHistory.Server.Api.Admission;

/// <summary>
/// Admission control for the services it is added to (the public ReadHistory service and the internal CacheNode
/// service): a unary call holds one permit of its class until it ends; an Ingest stream holds one write permit per
/// message, from reading it until the next is asked for. A call past its class's bound is refused before the
/// handler runs (<see cref="AdmissionControl"/>). Added after the RPC metrics interceptor, so refusals are counted there too.
/// </summary>
internal sealed class AdmissionInterceptor(AdmissionControl admission) : Interceptor
{
    /// <inheritdoc />
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(continuation);
        var callClass = AdmissionControl.ClassOf(context.Method);
        if (callClass == CallClass.None)
        {
            return continuation(request, context);
        }

        var lease = admission.Enter(callClass);
        Task<TResponse> call;
        try
        {
            call = continuation(request, context);
        }
        catch
        {
            lease.Dispose();
            throw;
        }

        if (call.IsCompleted)
        {
            lease.Dispose();
            return call;
        }

        return ReleaseAfterAsync(call, lease);
    }

    /// <inheritdoc />
    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(continuation);
        var callClass = AdmissionControl.ClassOf(context.Method);
        if (callClass == CallClass.None)
        {
            return continuation(requestStream, context);
        }

        var admitted = new AdmittedStreamReader<TRequest>(requestStream, admission, callClass);
        Task<TResponse> call;
        try
        {
            call = continuation(admitted, context);
        }
        catch
        {
            admitted.Dispose();
            throw;
        }

        return ReleaseAfterAsync(call, admitted);
    }

    private static async Task<TResponse> ReleaseAfterAsync<TResponse>(Task<TResponse> call, IDisposable lease)
    {
        try
        {
            return await call.ConfigureAwait(false);
        }
        finally
        {
            lease.Dispose();
        }
    }
}
