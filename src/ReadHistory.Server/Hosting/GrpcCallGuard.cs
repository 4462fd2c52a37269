using System.Diagnostics;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.Options;
using ReadHistory.Server.Api;

namespace ReadHistory.Server.Hosting;

/// <summary>
/// Middleware in front of every gRPC call, once routing has found its method:
/// <list type="bullet">
/// <item>a path that names the method in another case answers UNIMPLEMENTED (endpoint routing matches paths in any
/// case; gRPC paths are exact, as grpc-go and grpc-java serve them);</item>
/// <item>Kestrel's minimum request-body data rate is turned off for the call: on HTTP/2 it measures the whole connection,
/// so one stalled call would drop every call sharing it; a call with one request message gets
/// <see cref="RequestLimits.RequestBodyTimeout"/> instead (<see cref="GuardedRequestBody"/>), streams the Ingest idle
/// timeout (<see cref="IngestLimitInterceptor"/>);</item>
/// <item>a client that resets the call before its request message arrived is counted as CANCELLED and logged at debug
/// level; a request message past its deadline is counted as DEADLINE_EXCEEDED and logged once with the peer.</item>
/// </list>
/// </summary>
internal sealed class GrpcCallGuard(RequestDelegate next, IOptions<RequestLimits> limits, RpcMetrics metrics, TimeProvider time, ILogger<GrpcCallGuard> logger)
{
    private readonly TimeSpan _bodyTimeout = limits.Value.RequestBodyTimeout;

    /// <summary>Runs the call through the guards.</summary>
    public Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var method = context.GetEndpoint()?.Metadata.GetMetadata<GrpcMethodMetadata>()?.Method;
        if (method is null)
        {
            return next(context);
        }

        if (!string.Equals(context.Request.Path.Value, method.FullName, StringComparison.Ordinal))
        {
            Unimplemented(context.Response);
            return Task.CompletedTask;
        }

        return GuardAsync(context, method);
    }

    // A trailers-only answer, as Grpc.AspNetCore gives for a method it does not know.
    private static void Unimplemented(HttpResponse response)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/grpc";
        response.Headers["grpc-status"] = "12";
        response.Headers["grpc-message"] = "Method is unimplemented.";
    }

    private async Task GuardAsync(HttpContext context, IMethod method)
    {
        var started = Stopwatch.GetTimestamp();
        if (context.Features.Get<IHttpMinRequestBodyDataRateFeature>() is { } rate)
        {
            rate.MinDataRate = null;
        }

        // Streaming requests are bounded per message (idle timeout, message count) by the interceptor, not here.
        var single = method.Type is MethodType.Unary or MethodType.ServerStreaming;
        using var body = new GuardedRequestBody(context.Features.GetRequiredFeature<IRequestBodyPipeFeature>().Reader, single ? _bodyTimeout : Timeout.InfiniteTimeSpan, time);
        context.Features.Set<IRequestBodyPipeFeature>(body);
        await next(context).ConfigureAwait(false);
        if (body.WasReset)
        {
            Log.CallCancelled(logger, method.FullName);
        }

        // A single-message call whose message never arrived never reached a handler, so no interceptor counted it.
        if (single && (body.WasReset || body.TimedOut))
        {
            if (body.TimedOut)
            {
                var peer = Peer(context);
                var seconds = _bodyTimeout.TotalSeconds;
                Log.RequestBodyTimedOut(logger, method.FullName, peer, seconds);
            }

            metrics.Record(RpcMetricsInterceptor.LabelOf(method.FullName), body.TimedOut ? StatusCode.DeadlineExceeded : StatusCode.Cancelled, Stopwatch.GetElapsedTime(started));
        }
    }

    private static string Peer(HttpContext context) =>
        context.Connection.RemoteIpAddress is { } address ? address + ":" + context.Connection.RemotePort.ToString(System.Globalization.CultureInfo.InvariantCulture) : "unknown";
}
