using ReadHistory.Core.Caching;

namespace ReadHistory.Server.Cache;

/// <summary>The second tier (T2) on the miss path: a rebuild first tries the user's snapshot; misses wait for it briefly.</summary>
internal sealed partial class ReadThroughCache
{
    /// <summary>The pool's second tier (null: misses go to the database only).</summary>
    public SnapshotTier? SnapshotTier => _tier;

    /// <summary>
    /// A miss while the user's rebuild tries T2: waits up to the tier's LoadTimeout for the snapshot's install and
    /// answers from it (<see cref="CheckSource.Snapshot"/>); otherwise, as without T2, from a point query.
    /// </summary>
    private async ValueTask<CheckResult> MissThroughSnapshotAsync(UserRebuild rebuild, ulong userId, ushort contentType, ReadOnlyMemory<ulong> contentIds, Memory<byte> readBitmap, CancellationToken cancellationToken)
    {
        bool installed;
        try
        {
            installed = await rebuild.SnapshotLoad!.Task.WaitAsync(_tier!.LoadTimeout, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            installed = false;
        }

        if (installed && Filters.TryGet(userId, out var entry) && entry.HasFilter)
        {
            var unread = entry.CheckMany(contentType, contentIds.Span, readBitmap.Span);
            return new CheckResult(unread, CheckSource.Snapshot);
        }

        return await PointQueryAsync(userId, contentType, contentIds, readBitmap, CheckSource.Database, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The start of a rebuild with T2: loads and catches up the user's snapshot and installs it with the changes
    /// buffered meanwhile. True when the rebuild is done (installed, or abandoned meanwhile); false: build from the
    /// database. Only once the node tails its stream: before, nothing proves where its own filters stand.
    /// </summary>
    private async Task<bool> TryLoadSnapshotAsync(UserRebuild rebuild, CancellationToken stopping)
    {
        var tier = _tier!;
        if (tier.Position.Applied is null)
        {
            rebuild.SnapshotLoad!.TrySetResult(false);
            return false;
        }

        var started = _time.GetTimestamp();
        // The load's own bound is CatchUpTimeout: the misses stop waiting at LoadTimeout, the load goes on to spare the scan.
        using var deadline = new CancellationTokenSource(tier.CatchUpTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, stopping);
        var filter = await tier.LoadAsync(rebuild, _options.Filter, linked.Token).ConfigureAwait(false);
        stopping.ThrowIfCancellationRequested();
        if (filter is null)
        {
            // At once: misses waiting for the load go to their point queries now, not after the database rebuild.
            rebuild.SnapshotLoad!.TrySetResult(false);
            return rebuild.IsAbandoned;
        }

        if (!Install(rebuild, filter, out _))
        {
            return true;
        }

        tier.Metrics.Hit(_time.GetElapsedTime(started));
        rebuild.SnapshotLoad!.TrySetResult(true);
        return true;
    }

    /// <summary>The table's eviction hook with T2: hands the evicted filter to the write-back queue, stamped with the position read now.</summary>
    private void WriteBackEvicted(FilterTableEntry entry)
    {
        // Read before the entry leaves the table (the hook runs first): every change up to this position was applied
        // to the filter while it was held. A change refused after the removal comes later in the stream.
        if (_tier!.Position.Applied is not { } coherentTo)
        {
            _tier.Metrics.WriteBackDropped();
            return;
        }

        Interlocked.MemoryBarrier();
        if (entry.Filter is { } filter)
        {
            _tier.TryQueueWriteBack(entry.UserId, filter, coherentTo);
        }
    }
}
