using Grpc.Core;
using ReadHistory.Api.Internal.V1;
using ReadHistory.Api.V1;
using ReadHistory.Server.Api;

using ReadHistory.Server.Api.Admission;

namespace ReadHistory.Server.Proxy;

/// <summary>Ingest through the proxy: one internal stream per slot touched (<see cref="ProxyIngest"/>).</summary>
internal sealed partial class ProxyBackend
{
    private static readonly Func<CacheNode.CacheNodeClient, IngestSegment, CallOptions, AsyncUnaryCall<IngestResponse>> SendSegment =
        static (c, s, o) => s.Send(c, o);

    private static readonly Action<IngestSegment, bool> SegmentPassthrough = static (s, p) => s.Passthrough = p;

    /// <inheritdoc />
    public IIngestSink OpenIngest(ServerCallContext context, int maxRowsInFlight) => new ProxyIngest(this, context, maxRowsInFlight);

    /// <summary>
    /// Admits one valid Ingest message against its tenant's limits, as a MarkRead of its items, and says where it goes:
    /// its slot, the replica its session (user when absent) routes to first (-1 when none is routable), and that key.
    /// </summary>
    internal (SlotRoute Slot, int Replica, ulong Key) RouteIngest(MarkReadRequest batch, ServerCallContext context)
    {
        limiter.Admit(CallerOf(context), batch.Tenant, batch.Items.Count);
        var slot = PoolFor(router.Current, batch.Tenant).SlotOf(batch.UserId);
        var key = AffinityKey(batch.SessionId, batch.UserId);
        return (slot, slot.NextRoutable(key, 0), key);
    }

    /// <summary>
    /// Sends a segment as one internal Ingest stream with the failover walk of every forwarded call: to the replica
    /// its key routes to, on a replica failure the whole segment again to the next, then in passthrough to other
    /// slots' nodes. Bounded by the client's deadline, or <see cref="ProxyOptions.IngestSegmentTimeout"/> without one.
    /// </summary>
    internal Task<IngestResponse> SendSegmentAsync(IngestSegment segment, ServerCallContext context)
    {
        var deadline = context.Deadline == DateTime.MaxValue ? time.GetUtcNow().UtcDateTime + options.IngestSegmentTimeout : context.Deadline;
        return RouteAsync(CallClass.Writes, SendSegment, segment, SegmentPassthrough, segment.Slot, segment.Key, deadline, context.CancellationToken);
    }
}
