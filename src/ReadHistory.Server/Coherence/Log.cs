using Microsoft.Extensions.Logging;
using ReadHistory.Server.Cdc;

namespace ReadHistory.Server.Coherence;

/// <summary>Source-generated log methods of coherence: tailing the slot stream, warm start (event ids: see <see cref="EventIds"/>).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = EventIds.CoherenceTailing, Level = LogLevel.Information, Message = "coherence: tailing {StreamKey} from {Cursor}")]
    public static partial void CoherenceTailing(ILogger logger, string streamKey, StreamCursor cursor);

    [LoggerMessage(EventId = EventIds.CoherenceGap, Level = LogLevel.Warning, Message = "coherence: gap in {StreamKey} ({Reason}); dropped {Users} filters that can no longer be proven coherent")]
    public static partial void CoherenceGap(ILogger logger, string streamKey, string reason, int users);

    [LoggerMessage(EventId = EventIds.CoherenceUnreachable, Level = LogLevel.Warning, Message = "coherence: Redis not reachable; next try in {DelaySeconds} s")]
    public static partial void CoherenceUnreachable(ILogger logger, double delaySeconds, Exception exception);

    [LoggerMessage(EventId = EventIds.CoherenceReplaying, Level = LogLevel.Information, Message = "coherence: warm, replaying {StreamKey} from the peer's cursor {Cursor} up to {Tail}")]
    public static partial void CoherenceReplaying(ILogger logger, string streamKey, StreamCursor cursor, StreamCursor tail);

    [LoggerMessage(EventId = EventIds.CoherenceCaughtUp, Level = LogLevel.Information, Message = "coherence: {StreamKey} replayed up to {Cursor}; ready")]
    public static partial void CoherenceCaughtUp(ILogger logger, string streamKey, StreamCursor cursor);

    [LoggerMessage(EventId = EventIds.CoherenceWarmStartPeerNotServing, Level = LogLevel.Information, Message = "warm start: peer {Peer} is not serving; trying the next")]
    public static partial void WarmStartPeerNotServing(ILogger logger, Uri peer);

    [LoggerMessage(EventId = EventIds.CoherenceWarmStartDiscarded, Level = LogLevel.Warning, Message = "warm start from {Peer} discarded, starting cold: {Reason}")]
    public static partial void WarmStartDiscarded(ILogger logger, Uri peer, string reason);

    [LoggerMessage(EventId = EventIds.CoherenceFanOutStarting, Level = LogLevel.Information, Message = "peer fan-out: pool {Pool} slot {Slot}: sending committed changes to {Peers} peer replicas")]
    public static partial void PeerFanOutStarting(ILogger logger, string pool, int slot, int peers);

    [LoggerMessage(EventId = EventIds.CoherenceFanOutFailing, Level = LogLevel.Warning, Message = "peer fan-out to {Peer} failing ({Reason}); backing off; its changes stay queued and are sent again after the backoff")]
    public static partial void PeerFanOutFailing(ILogger logger, Uri peer, string reason);

    [LoggerMessage(EventId = EventIds.CoherenceFanOutResumed, Level = LogLevel.Information, Message = "peer fan-out to {Peer} resumed")]
    public static partial void PeerFanOutResumed(ILogger logger, Uri peer);
}
