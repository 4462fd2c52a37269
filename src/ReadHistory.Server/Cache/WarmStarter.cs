using ReadHistory.Api;
using System.Runtime;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using ReadHistory.Api.Internal.V1;
using ReadHistory.Core.Caching;
using ReadHistory.Core.Filters;
using Grpc.Core;
using Grpc.Net.Client;

namespace ReadHistory.Server.Cache;

/// <summary>
/// The receiving side of warm start: copies a ready peer's filters of one pool (hottest first) into this node's
/// <see cref="ReadThroughCache"/> over CacheNode.Snapshot, validating each filter and stopping when the budget is
/// full, and hands back the peer's stream cursor to tail from. Bounded by <see cref="WarmStartOptions.Timeout"/>.
/// </summary>
/// <remarks>
/// All or nothing: a failure (peer unreachable or refusing, a corrupt or truncated filter, a stream out of order, the
/// timeout) drops every filter this attempt installed, because without the cursor of a completed handover the node
/// cannot prove them coherent. The node then simply starts cold. Caller cancellation drops them too, then throws.
/// Run it before the node serves and before it tails its slot stream.
/// </remarks>
internal sealed partial class WarmStarter : IDisposable
{
    // Room around a chunk's filter data for the message's own fields (cursor, per-part headers).
    private const int MessageOverheadBytes = 64 << 10;

    // Chunks received and parsed ahead of the installer.
    private const int PipelineChunks = 8;

    // Most users a peer's announced layout is taken for (a table of 2^30 slots): more is not a real pool.
    private const ulong MaxAdoptedUsers = 1 << 29;

    private readonly ReadThroughCache _cache;
    private readonly WarmStartOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    // Counters this starter created itself (disposed with it); null when the caller owns them.
    private readonly WarmStartMetrics? _ownMetrics;

    /// <summary>Creates the warm starter of <paramref name="cache"/>'s pool, with counters of its own (gone once it is disposed).</summary>
    public WarmStarter(ReadThroughCache cache, WarmStartOptions options, TimeProvider time, ILogger logger)
        : this(cache, options, OwnMetrics(cache), time, logger)
    {
        _ownMetrics = Metrics;
    }

    /// <summary>
    /// Creates the warm starter of <paramref name="cache"/>'s pool, counting into <paramref name="metrics"/>, which the
    /// caller owns (a node keeps one for its lifetime so the counters stay exported): disposing the starter leaves it.
    /// </summary>
    public WarmStarter(ReadThroughCache cache, WarmStartOptions options, WarmStartMetrics metrics, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(cache);
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        options.Validate();
        _cache = cache;
        _options = options;
        _time = time;
        _logger = logger;
        Metrics = metrics;
    }

    /// <summary>The warm-start counters.</summary>
    public WarmStartMetrics Metrics { get; }

    /// <summary>Copies <paramref name="pool"/>'s filters from the peer at <paramref name="peer"/>, whatever its cursor (see the overload).</summary>
    public Task<WarmStartResult> WarmStartAsync(Uri peer, string pool, CancellationToken cancellationToken) =>
        WarmStartAsync(peer, pool, acceptCursor: null, cancellationToken);

    /// <summary>
    /// Copies <paramref name="pool"/>'s filters from the cache node at <paramref name="peer"/> (its internal gRPC
    /// address) into this node. Never throws for the peer's faults: a failure comes back as
    /// <see cref="WarmStartOutcome.Failed"/> with nothing kept. Throws <see cref="OperationCanceledException"/> only
    /// when <paramref name="cancellationToken"/> fires (after dropping what it installed). <paramref name="acceptCursor"/>,
    /// when given, sees the peer's cursor as soon as it arrives, before any filter is installed: it returns null to go
    /// on, or why the copy is useless (the attempt then fails at once, having installed nothing).
    /// </summary>
    public async Task<WarmStartResult> WarmStartAsync(Uri peer, string pool, Func<ReadOnlyMemory<byte>, string?>? acceptCursor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(peer);
        ArgumentNullException.ThrowIfNull(pool);
        var started = _time.GetTimestamp();
        var installed = new List<ulong>();
        long bytes = 0;
        using var timeout = new CancellationTokenSource(_options.Timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        // A warm start builds up to a whole budget of long-lived filters at once: full blocking collections, each
        // marking everything installed so far, would cost more than the copy. Background ones only, meanwhile.
        var latency = GCSettings.LatencyMode;
        GCSettings.LatencyMode = GCLatencyMode.SustainedLowLatency;
        try
        {
            var (outcome, cursor) = await CopyAsync(peer, pool, installed, b => bytes += b, acceptCursor, linked.Token).ConfigureAwait(false);
            var result = new WarmStartResult(outcome, cursor, installed.Count, bytes, _time.GetElapsedTime(started), Error: null);
            Log.WarmStartFinished(_logger, _cache.Options.Pool, peer, outcome, result.Users, result.Bytes, result.Duration.TotalMilliseconds);
            Metrics.Finished(outcome);
            return result;
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            DropAll(installed);
            var reason = Describe(e, timeout.IsCancellationRequested);
            var duration = _time.GetElapsedTime(started);
            Log.WarmStartFailed(_logger, e, _cache.Options.Pool, peer, duration.TotalMilliseconds, reason);
            Metrics.Finished(WarmStartOutcome.Failed);
            return new WarmStartResult(WarmStartOutcome.Failed, ReadOnlyMemory<byte>.Empty, 0, 0, duration, reason);
        }
        catch (Exception e)
        {
            // The caller gave up (the transport may report it as a CANCELLED RpcException): same cleanup, then say so.
            DropAll(installed);
            Metrics.Finished(WarmStartOutcome.Failed);
            throw e as OperationCanceledException ?? new OperationCanceledException("warm start cancelled", e, cancellationToken);
        }
        finally
        {
            GCSettings.LatencyMode = latency;
        }
    }

    /// <summary>Disposes the counters only if this starter created them.</summary>
    public void Dispose() => _ownMetrics?.Dispose();

    private static WarmStartMetrics OwnMetrics(ReadThroughCache cache)
    {
        ArgumentNullException.ThrowIfNull(cache);
        return new WarmStartMetrics(cache.Options.Pool);
    }

    private async Task<(WarmStartOutcome Outcome, ReadOnlyMemory<byte> Cursor)> CopyAsync(Uri peer, string pool, List<ulong> installed, Action<long> addBytes, Func<ReadOnlyMemory<byte>, string?>? acceptCursor, CancellationToken cancellationToken)
    {
        using var channel = ServiceChannels.Create(peer, CreateHandler(), _options.ChunkBytes + MessageOverheadBytes);
        var request = new SnapshotRequest
        {
            Pool = pool,
            // The peer counts snapshot bytes, this node heap bytes: close enough to stop the peer early; the install
            // below enforces the budget exactly.
            MaxBytes = (ulong)Math.Max(1, _cache.Filters.BudgetBytes - _cache.Filters.Bytes),
            MaxChunkBytes = (uint)_options.ChunkBytes,
        };
        var deadline = _time.GetUtcNow().UtcDateTime + _options.Timeout;

        // Chunks are decoded into pooled buffers that the filters' bytes refer to (no copy or object per filter); the
        // installer hands each buffer back once it is done with the chunk.
        var decoder = new SnapshotChunkDecoder();
        using var call = channel.CreateCallInvoker().AsyncServerStreamingCall(SnapshotMethods.Decoding(decoder), null, new CallOptions(deadline: deadline, cancellationToken: cancellationToken), request);

        // Two stages on two cores: this loop receives and parses chunks, the installer validates and installs them.
        var chunks = Channel.CreateBounded<(DecodedChunk Parts, bool Last, bool Truncated)>(new BoundedChannelOptions(PipelineChunks) { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task<WarmStartOutcome>? install = null;
        ReadOnlyMemory<byte>? cursor = null;
        try
        {
            while (await call.ResponseStream.MoveNext(stop.Token).ConfigureAwait(false))
            {
                var chunk = call.ResponseStream.Current;
                if (cursor is null)
                {
                    cursor = chunk.Cursor.ToByteArray();
                    if (acceptCursor?.Invoke(cursor.Value) is { } refused)
                    {
                        throw new InvalidDataException("the peer's cursor is refused: " + refused);
                    }

                    if (AdoptLayout(peer, chunk))
                    {
                        installed.EnsureCapacity((int)chunk.Users);
                    }

                    // Started only once the cursor is accepted: nothing is installed before acceptCursor has run.
                    install = Task.Run(() => InstallAsync(chunks.Reader, installed, addBytes, stop), CancellationToken.None);
                }
                else if (!chunk.Cursor.IsEmpty)
                {
                    throw new InvalidDataException("Snapshot stream: a cursor arrived after the first chunk; expected it in the first chunk only.");
                }

                await chunks.Writer.WriteAsync((decoder.TakeDecoded(), chunk.Last, chunk.Truncated), stop.Token).ConfigureAwait(false);
                if (chunk.Last)
                {
                    chunks.Writer.Complete();
                    return (await install!.ConfigureAwait(false), cursor.Value);
                }
            }

            throw new InvalidDataException("Snapshot stream ended without its last chunk (the peer stopped early).");
        }
        catch (Exception) when (install is not null && stop.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // The installer stopped first (budget full, or a bad filter) and cancelled the receiving: its word counts.
            // Nothing else cancels stop here, but the installer cancels it in its finally, before its task completes:
            // wait for it rather than test IsCompleted, or its error would be lost to "A task was canceled".
            return (await install.ConfigureAwait(false), cursor!.Value);
        }
        finally
        {
            chunks.Writer.TryComplete();
            if (install is { IsCompleted: false })
            {
                // Receiving failed: stop the installer and wait, so that nobody installs after the caller drops.
                await stop.CancelAsync().ConfigureAwait(false);
                await install.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Takes the peer's index layout when this pool holds nothing and the peer's whole pool fits in the budget: its
    /// filters then arrive in this table's own order (see <see cref="FilterTable.TryAdoptLayout"/>). Otherwise the
    /// pool keeps its own salt, under which the peer's order is random (never one probe cluster). True when taken.
    /// </summary>
    private bool AdoptLayout(Uri peer, SnapshotChunk first)
    {
        var filters = _cache.Filters;
        var adopted = first.Users is > 0 and <= MaxAdoptedUsers
            && first.PoolBytes <= (ulong)Math.Max(0, filters.BudgetBytes - filters.Bytes)
            && filters.TryAdoptLayout(first.LayoutSalt, (int)first.Users);
        Log.WarmStartLayout(_logger, _cache.Options.Pool, peer, first.Users, first.PoolBytes, adopted ? "adopted" : "not adopted");
        return adopted;
    }

    private void DropAll(List<ulong> installed)
    {
        foreach (var userId in installed)
        {
            _cache.Filters.Remove(userId);
        }

        installed.Clear();
    }

    private string Describe(Exception e, bool timedOut) => e switch
    {
        // The call's own deadline (the same bound) may fire a moment before the token does.
        _ when timedOut || e is RpcException { StatusCode: StatusCode.DeadlineExceeded } => $"timed out after {_options.Timeout.TotalSeconds:0.###} s",
        RpcException rpc => $"the peer answered {rpc.StatusCode}: {rpc.Status.Detail}",
        _ => e.Message,
    };
}
