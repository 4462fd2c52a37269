using System.Runtime.InteropServices;
using ReadHistory.Core.Filters;

namespace ReadHistory.Server.Cache;

/// <summary>The asynchronous full rebuild of a user: count, size, scan, apply the buffer, install; retried with backoff.</summary>
internal sealed partial class ReadThroughCache
{
    /// <summary>Rows between two charges of the row-rate budget (a power of two; 2 ms of scan at the default rate).</summary>
    private const int ThrottleRows = 1024;

    /// <summary>Starts the user's rebuild unless one is registered already (single-flight); returns the one registered (null when stopping).</summary>
    private UserRebuild? StartRebuild(ulong userId)
    {
        if (_stopping.IsCancellationRequested)
        {
            return null;
        }

        if (_rebuilds.TryGetValue(userId, out var running))
        {
            return running;
        }

        var rebuild = new UserRebuild(userId, trySnapshot: _tier is not null);
        if (_rebuilds.TryAdd(userId, rebuild))
        {
            rebuild.Completion = RunRebuildAsync(rebuild);
            return rebuild;
        }

        return _rebuilds.TryGetValue(userId, out running) ? running : null;
    }

    private async Task RunRebuildAsync(UserRebuild rebuild)
    {
        // Leave the caller's thread at once: the miss answers from its point query while this runs.
        await Task.Yield();
        var started = _time.GetTimestamp();
        var token = _stopping.Token;
        try
        {
            if (_tier is not null && await TryLoadSnapshotAsync(rebuild, token).ConfigureAwait(false))
            {
                return;
            }

            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    var filter = await BuildAsync(rebuild, token).ConfigureAwait(false);
                    if (filter is not null && Install(rebuild, filter, out var capped))
                    {
                        Metrics.RebuildInstalled(capped, _time.GetElapsedTime(started));
                    }
                    else
                    {
                        Metrics.RebuildAbandoned();
                    }

                    return;
                }
                catch (Exception e) when (e is not OperationCanceledException || !token.IsCancellationRequested)
                {
                    if (attempt >= _options.RebuildMaxAttempts || rebuild.IsAbandoned)
                    {
                        Log.RebuildGaveUp(_logger, e, _options.Pool, attempt);
                        Metrics.RebuildFailed();
                        return;
                    }

                    var delay = _options.RebuildRetryDelay * Math.Pow(2, attempt - 1);
                    Log.RebuildRetrying(_logger, e, _options.Pool, attempt, _options.RebuildMaxAttempts, delay.TotalMilliseconds);
                    Metrics.RebuildRetried();
                    await Task.Delay(delay, _time, token).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            Metrics.RebuildAbandoned();
        }
        finally
        {
            rebuild.SnapshotLoad?.TrySetResult(false);
            lock (rebuild.Gate)
            {
                if (rebuild.State == RebuildState.Running)
                {
                    Interlocked.Add(ref _bufferedChanges, -rebuild.Abandon());
                }
            }

            _rebuilds.TryRemove(new KeyValuePair<ulong, UserRebuild>(rebuild.UserId, rebuild));
        }
    }

    /// <summary>Counts, sizes and scans in one rebuild slot; null when abandoned meanwhile. A filter too small for the count comes back capped.</summary>
    private async Task<UserFilter?> BuildAsync(UserRebuild rebuild, CancellationToken cancellationToken)
    {
        await _rebuildSlots.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (rebuild.IsAbandoned)
            {
                return null;
            }

            var rows = await _source.CountAsync(rebuild.UserId, cancellationToken).ConfigureAwait(false);
            rebuild.Rows = rows;
            if (!UserFilter.CanHold(rows, _options.Filter))
            {
                // A first layer is shrunk to the per-user byte cap; one that cannot hold the rows now never will.
                Log.UserCapped(_logger, _options.Pool, rows, _options.Filter.MaxBytes);
                return CappedMarker;
            }

            // The rows are gathered, then built in one go: a fuse base needs them all (UserFilter.Rebuild picks the layer).
            var scanned = new List<ContentKey>((int)Math.Min(rows, 1 << 20));
            await foreach (var row in _source.ScanAsync(rebuild.UserId, cancellationToken).ConfigureAwait(false))
            {
                scanned.Add(row);
                if ((scanned.Count & (ThrottleRows - 1)) == 0)
                {
                    Metrics.RebuildRows(ThrottleRows);
                    if (rebuild.IsAbandoned)
                    {
                        break;
                    }

                    // The row-rate budget: a scan ahead of it waits here, reading nothing, so misses keep the cores.
                    await _throttle.ChargeAsync(ThrottleRows, cancellationToken).ConfigureAwait(false);
                }
            }

            Metrics.RebuildRows(scanned.Count & (ThrottleRows - 1));
            return rebuild.IsAbandoned ? null : UserFilter.Rebuild(CollectionsMarshal.AsSpan(scanned), _options.Filter);
        }
        finally
        {
            _rebuildSlots.Release();
        }
    }

    /// <summary>Applies the buffer and installs, under the rebuild's lock; false when the rebuild was abandoned meanwhile.</summary>
    private bool Install(UserRebuild rebuild, UserFilter filter, out bool capped)
    {
        lock (rebuild.Gate)
        {
            capped = false;
            if (rebuild.State != RebuildState.Running)
            {
                return false;
            }

            if (!ReferenceEquals(filter, CappedMarker))
            {
                foreach (var change in rebuild.Buffer)
                {
                    filter.Add(change.Type, change.Id);
                }

                capped = !Filters.Install(rebuild.UserId, filter);
                if (!capped && _tier is not null && rebuild.Rows >= _tier.WriteBackMinRows && _tier.Position.Applied is { } coherentTo)
                {
                    // Read under the rebuild's lock: every change up to it was in the scan or in the buffer just applied.
                    _tier.TryQueueWriteBack(rebuild.UserId, filter, coherentTo);
                }
            }
            else
            {
                Filters.InstallCapped(rebuild.UserId);
                capped = true;
            }

            Interlocked.Add(ref _bufferedChanges, -rebuild.Buffer.Count);
            rebuild.Buffer.Clear();
            rebuild.State = RebuildState.Installed;
            return true;
        }
    }

    /// <summary>Stands for "the user is too large" between <see cref="BuildAsync"/> and <see cref="Install"/>.</summary>
    private static readonly UserFilter CappedMarker = UserFilter.Create(0, BloomFilterOptions.Default);
}
