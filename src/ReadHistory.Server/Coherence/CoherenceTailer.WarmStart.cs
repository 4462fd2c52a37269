using ReadHistory.Api;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Health.V1;
using ReadHistory.Server.Cache;
using ReadHistory.Server.Cdc;

namespace ReadHistory.Server.Coherence;

/// <summary>
/// Warm start at node start-up: copy a serving peer's filters and take over its stream cursor instead of starting cold.
/// </summary>
/// <remarks>
/// Why no change is lost: the peer reads its cursor P (the last change it applied) before it reads any filter, so
/// every filter copied holds every change up to P; this node replays the stream from P, which holds every change
/// committed after the peer read P. Filters this node built itself before P was read may lack changes up to P (it
/// was not tailing), so everything it holds is dropped as soon as P arrives, before the first copied filter is
/// installed; rebuilds started after that scan the database after P was read, and the replay covers the rest.
/// </remarks>
internal sealed partial class CoherenceTailer
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(2);
    private static readonly HealthCheckRequest WholeServer = new();

    /// <summary>
    /// Tries the peers of this node's slot in turn, within WarmStartTimeout: the first that reports SERVING is copied.
    /// Returns the cursor to tail from and the stream's tail when the copy ended (ready once replayed up to it), or
    /// null to start cold (no peer, none serving, the copy failed, an empty cursor, or the epoch changed meanwhile),
    /// having then kept none of the copied filters.
    /// </summary>
    private async Task<(StreamCursor From, StreamCursor Tail)?> WarmStartAsync(ReadThroughCache cache, ChangeStreamReader reader, CancellationToken stoppingToken)
    {
        var settings = cacheOptions.Value;
        var bound = settings.WarmStartTimeout;
        var peers = placement.PeersIn(topology.Value);
        if (bound <= TimeSpan.Zero || peers.Count == 0)
        {
            return null;
        }

        foreach (var peer in peers)
        {
            var left = bound - time.GetElapsedTime(_started);
            if (left <= TimeSpan.Zero)
            {
                break;
            }

            if (!await IsServingAsync(peer, left < ProbeTimeout ? left : ProbeTimeout, stoppingToken).ConfigureAwait(false))
            {
                Log.WarmStartPeerNotServing(_logger, peer);
                continue;
            }

            StreamCursor? from = null;
            string? AcceptCursor(ReadOnlyMemory<byte> bytes)
            {
                if (bytes.IsEmpty)
                {
                    return "it tails no change stream (empty cursor)";
                }

                try
                {
                    from = SnapshotCursor.Decode(bytes.Span);
                }
                catch (InvalidDataException e)
                {
                    return e.Message;
                }

                cache.DropAll();
                return null;
            }

            using var starter = new WarmStarter(cache, new WarmStartOptions { Timeout = left, ChunkBytes = settings.WarmStartChunkBytes, WindowBytes = settings.WarmStartWindowBytes, Tls = tls }, _warmStartMetrics, time, _logger);
            var result = await starter.WarmStartAsync(peer, placement.Pool, AcceptCursor, stoppingToken).ConfigureAwait(false);
            if (!result.IsWarm || from is not { } cursor)
            {
                continue;
            }

            StreamCursor tail;
            try
            {
                tail = await reader.GetTailCursorAsync().WaitAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is StackExchange.Redis.RedisException or TimeoutException)
            {
                Log.WarmStartDiscarded(_logger, peer, "Redis is not reachable: " + e.Message);
                return null;
            }

            if (tail.Epoch != cursor.Epoch)
            {
                Log.WarmStartDiscarded(_logger, peer, "the stream epoch changed since the peer's cursor");
                return null;
            }

            return (cursor, tail);
        }

        return null;
    }

    private async Task<bool> IsServingAsync(Uri peer, TimeSpan timeout, CancellationToken stoppingToken)
    {
        try
        {
            var handler = ServiceChannels.CreateHandler();
            tls.ConfigureClient(handler);
            using var channel = ServiceChannels.Create(peer, handler);
            var deadline = time.GetUtcNow().UtcDateTime + timeout;
            using var call = new Health.HealthClient(channel).CheckAsync(WholeServer, new CallOptions(deadline: deadline, cancellationToken: stoppingToken));
            var response = await call.ResponseAsync.ConfigureAwait(false);
            return response.Status == HealthCheckResponse.Types.ServingStatus.Serving;
        }
        catch (Exception) when (!stoppingToken.IsCancellationRequested)
        {
            return false;
        }
    }
}
