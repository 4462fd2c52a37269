using System.Buffers;
using Google.Protobuf;
using ReadHistory.Api.V1;

namespace ReadHistory.Server.Proxy;

/// <summary>The forwarding path's warm-up, before a starting proxy takes its first call.</summary>
internal sealed partial class ProxyBackend
{
    // A passthrough Check of one id: the node answers it from a point query and touches no filter.
    private static readonly byte[] WarmUpRequest = new CheckRequest { UserId = 1, ContentIds = { 1 } }.ToByteArray();

    /// <summary>
    /// Sends, to every replica the probes found usable, one passthrough Check per Exchange stream (one unary call
    /// without streams) through the path the forwarded calls take — the request reader, the breaker, the streams'
    /// writer and reader, the answer's relay — so that the first callers of a starting or restarted proxy do not pay for
    /// compiling that path and opening the streams inside their deadlines (the chaos suite's proxy restarts failed
    /// calls that way on a loaded machine). Each is bounded by <paramref name="timeout"/>; a failure only means the
    /// first real call pays instead (the probes decide routing).
    /// </summary>
    internal Task WarmUpAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!options.ForwardBytes)
        {
            // The decoding path (Proxy:ForwardBytes off) has nothing of its own to warm.
            return Task.CompletedTask;
        }

        var calls = new List<Task>();
        foreach (var replica in router.Current.Endpoints())
        {
            if (!replica.IsUsable)
            {
                continue;
            }

            for (var n = 0; n < Math.Max(1, options.StreamsPerNode); n++)
            {
                calls.Add(WarmUpReplicaAsync(replica, time.GetUtcNow().UtcDateTime + timeout, cancellationToken));
            }
        }

        return Task.WhenAll(calls);
    }

    private static async Task WarmUpReplicaAsync(ReplicaEndpoint replica, DateTime deadline, CancellationToken cancellationToken)
    {
        var request = ForwardedRequestReader.ReadCheck(new ReadOnlySequence<byte>(WarmUpRequest));
        request.Passthrough = true;
        try
        {
            var answer = await replica.ForwardAsync(ForwardingMethods.NodeCheck, request, deadline, cancellationToken).ConfigureAwait(false);
            answer.Release();
            request.Release();
        }
        catch (Exception e) when (e is Grpc.Core.RpcException or OperationCanceledException || ReplicaFailures.IsReplicaFailure(e))
        {
            // The first real call pays instead.
        }
    }
}
