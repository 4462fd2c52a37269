using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Prometheus;
using ReadHistory.Api.Internal.V1;
using ReadHistory.Server.Cache;
using ReadHistory.Server.Storage;
using ReadHistory.Server.Tls;
using ReadHistory.Server.Topology;

namespace ReadHistory.Server.Coherence;

/// <summary>
/// The peer fan-out of a cache node: every write and Forget the node commits goes at once to the other replicas of its
/// slot (one <see cref="PeerSender"/> each), which apply it as they would the same change from the slot's stream. Best
/// effort: the stream stays the path that guarantees convergence (other pools, restarts, lost peer messages); this
/// path keeps the slot's replicas fresh while the CDC or Redis is down or slow.
/// </summary>
/// <remarks>
/// The node fans out, not the proxy: the node is where the commit is known (only committed rows are sent, right after
/// the commit, while the node sets its own bits), it batches across every write it takes, it spends the node's CPU
/// instead of lengthening the proxy's hop, and it covers clients that call a node directly. The peers are the
/// topology's replica list at start (like warm start's; a changed replica list takes a restart of the node).
/// </remarks>
internal sealed class PeerFanOut : CommittedChangeSink, IDisposable
{
    private readonly PeerSender[] _senders;

    /// <summary>A fan-out over <paramref name="senders"/> (owned), counting into <paramref name="metrics"/>.</summary>
    public PeerFanOut(IReadOnlyList<PeerSender> senders, PeerFanOutMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(senders);
        ArgumentNullException.ThrowIfNull(metrics);
        _senders = [.. senders];
        Metrics = metrics;
    }

    /// <summary>The fan-out's series.</summary>
    public PeerFanOutMetrics Metrics { get; }

    /// <summary>One sender per peer.</summary>
    public IReadOnlyList<PeerSender> Senders => _senders;

    /// <summary>The fan-out of the node at <paramref name="placement"/>: a gRPC sender per other replica of its slot in <paramref name="topology"/>, over <paramref name="tls"/> when set.</summary>
    public static PeerFanOut Create(CacheNodeOptions options, TopologyOptions topology, NodePlacement placement, TimeProvider time, ILogger logger, CollectorRegistry registry, InternalTls? tls = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(topology);
        ArgumentNullException.ThrowIfNull(placement);
        var settings = PeerFanOutSettings.From(options);
        var metrics = new PeerFanOutMetrics(placement.Pool, registry);
        var header = new ApplyChangesRequest { Pool = placement.Pool, Slot = (uint)placement.Slot }.ToByteArray();
        var peers = placement.PeersIn(topology);
        var senders = new List<PeerSender>(peers.Count);
        foreach (var peer in peers)
        {
            senders.Add(new PeerSender(peer, new GrpcPeerTransport(peer, tls), header, settings, metrics, time, logger));
        }

        Log.PeerFanOutStarting(logger, placement.Pool, placement.Slot, peers.Count);
        return new PeerFanOut(senders, metrics);
    }

    /// <inheritdoc />
    public override ValueTask PublishInsertsAsync(ulong userId, ushort contentType, ReadOnlySpan<StoredRead> items, bool untilApplied = false)
    {
        if (_senders.Length == 1)
        {
            return Wait(_senders[0].EnqueueInserts(userId, contentType, items, untilApplied));
        }

        var pending = new PendingAcks();
        foreach (var sender in _senders)
        {
            pending.Add(sender.EnqueueInserts(userId, contentType, items, untilApplied), _senders.Length);
        }

        return pending.WaitAsync();
    }

    /// <inheritdoc />
    public override ValueTask PublishDeleteUserAsync(ulong userId)
    {
        var pending = new PendingAcks();
        foreach (var sender in _senders)
        {
            pending.Add(sender.EnqueueDeleteUser(userId), _senders.Length);
        }

        return pending.WaitAsync();
    }

    /// <inheritdoc />
    public override void ObserveWait(TimeSpan waited) => Metrics.ObserveWait(waited);

    /// <summary>Stops every sender (writers waiting go on at once).</summary>
    public void Dispose()
    {
        foreach (var sender in _senders)
        {
            sender.Dispose();
        }
    }

    private static ValueTask Wait(Task? ack) => ack is null || ack.IsCompleted ? ValueTask.CompletedTask : new ValueTask(ack);

    /// <summary>The acknowledgements a writer waits on: none or one without allocating; several (three replicas or more) in an array.</summary>
    private struct PendingAcks
    {
        private Task? _one;
        private List<Task>? _several;

        public void Add(Task? ack, int peers)
        {
            if (ack is null || ack.IsCompleted)
            {
                return;
            }

            if (_one is null && _several is null)
            {
                _one = ack;
                return;
            }

            _several ??= new List<Task>(peers) { _one! };
            _several.Add(ack);
        }

        public readonly ValueTask WaitAsync() =>
            _several is { } several ? new ValueTask(Task.WhenAll(several)) : Wait(_one);
    }
}
