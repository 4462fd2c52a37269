using ReadHistory.Core.Caching;
using ReadHistory.Core.Filters;
using StackExchange.Redis;

namespace ReadHistory.Server.Cache;

/// <summary>
/// The refresh: write-backs of filters still held, so that T2 holds the slot's hot users and not only the ones that
/// left T1. A replica whose peer is gone (no warm start possible) then loads them instead of rebuilding each from the
/// database. Low priority by construction: one snapshot in flight, paced to <see cref="SnapshotTierOptions.RefreshBytesPerSecond"/>,
/// and a snapshot fresh enough (written by any replica less than RefreshMaxAge ago) is not written again.
/// </summary>
/// <remarks>
/// Coherence, as for an eviction: the stamp is the position read before the filter's entry is seen still held, and
/// every change up to that position was applied to every held filter before it was published. A change the filter
/// misses after that (it was evicted or promoted meanwhile) comes later in the stream, where a load catches it up;
/// bits set while the snapshot is copied are harmless extras (each is a committed row).
/// </remarks>
internal sealed partial class SnapshotTier
{
    /// <summary>Users whose time to live is asked in one pipelined round trip.</summary>
    private const int RefreshBatch = 256;

    /// <summary>Least time a refresh gives one Redis call: background work, not a miss waiting, so LoadTimeout's 50 ms would only stop passes on a loaded machine.</summary>
    private static readonly TimeSpan RefreshCallFloor = TimeSpan.FromSeconds(1);

    private long _refreshPasses;

    private TimeSpan RefreshCallTimeout => _options.LoadTimeout > RefreshCallFloor ? _options.LoadTimeout : RefreshCallFloor;

    /// <summary>Refresh passes finished (periodic and at shutdown, complete or stopped at their bound).</summary>
    public long RefreshPasses => Interlocked.Read(ref _refreshPasses);

    /// <summary>
    /// One refresh pass over <paramref name="ranked"/> (hottest first, at most RefreshMaxUsers of them): writes back
    /// each filter whose snapshot is missing or older than RefreshMaxAge, one at a time and paced to
    /// RefreshBytesPerSecond, until <paramref name="byteBudget"/> bytes are written, the list ends, Redis fails (counted)
    /// or <paramref name="cancellationToken"/> stops it. Never throws but for that cancellation.
    /// </summary>
    public async Task<SnapshotRefresh> RefreshAsync(IReadOnlyList<FilterTableEntry> ranked, long byteBudget, bool shutdown, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ranked);
        var started = _time.GetTimestamp();
        var count = Math.Min(ranked.Count, _options.RefreshMaxUsers);
        var users = new ulong[Math.Min(RefreshBatch, count)];
        var stamp = new byte[FilterSnapshotHeader.StampSize];
        var pass = new SnapshotRefresh();
        try
        {
            for (var from = 0; from < count && pass.Bytes < byteBudget; from += RefreshBatch)
            {
                var batch = Math.Min(RefreshBatch, count - from);
                for (var i = 0; i < batch; i++)
                {
                    users[i] = ranked[from + i].UserId;
                }

                var ttls = await _store.GetTimeToLiveAsync(users.AsMemory(0, batch)).WaitAsync(RefreshCallTimeout, _time, cancellationToken).ConfigureAwait(false);
                for (var i = 0; i < batch && pass.Bytes < byteBudget; i++)
                {
                    if (ttls[i] is { } left && _options.Ttl - left <= _options.RefreshMaxAge)
                    {
                        pass.Fresh++;
                        Metrics.Refreshed(shutdown, written: false);
                        continue;
                    }

                    var bytes = await TryWriteHeldAsync(ranked[from + i], stamp, cancellationToken).ConfigureAwait(false);
                    if (bytes < 0)
                    {
                        // No stream position: nothing can be stamped now, nor later in this pass.
                        return pass;
                    }

                    if (bytes > 0)
                    {
                        pass.Written++;
                        pass.Bytes += bytes;
                        Metrics.Refreshed(shutdown, written: true);
                        Metrics.RefreshBytes(bytes);
                        var ahead = TimeSpan.FromSeconds((double)pass.Bytes / _options.RefreshBytesPerSecond) - _time.GetElapsedTime(started);
                        if (ahead > TimeSpan.Zero)
                        {
                            await Task.Delay(ahead, _time, cancellationToken).ConfigureAwait(false);
                        }
                    }
                }
            }
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            // Redis is failing: leave the rest of the pass to the next one.
            Metrics.RefreshError(shutdown);
            Log.SnapshotTierFailed(_logger, e, _pool, shutdown ? "shutdown write-back" : "refresh");
        }
        finally
        {
            Interlocked.Increment(ref _refreshPasses);
        }

        return pass;
    }

    /// <summary>Writes back one held filter; its bytes, 0 when it is no longer held (or capped, or unstampable), −1 without a stream position.</summary>
    private async Task<int> TryWriteHeldAsync(FilterTableEntry entry, byte[] stamp, CancellationToken cancellationToken)
    {
        if (Position.Applied is not { } coherentTo)
        {
            return -1;
        }

        // The position first, then the entry seen still held: see the remarks.
        Interlocked.MemoryBarrier();
        if (entry.Removed || entry.Filter is not { IsCapped: false } filter || !TryEncodeStamp(coherentTo, stamp))
        {
            return 0;
        }

        return await StoreAsync(entry.UserId, filter, stamp, RefreshCallTimeout, cancellationToken).ConfigureAwait(false);
    }
}
