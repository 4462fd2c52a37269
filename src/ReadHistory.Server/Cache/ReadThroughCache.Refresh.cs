namespace ReadHistory.Server.Cache;

/// <summary>The second tier's refresh: held filters written back every RefreshInterval, and once more at a graceful shutdown.</summary>
internal sealed partial class ReadThroughCache
{
    private Task _refreshLoop = Task.CompletedTask;

    /// <summary>
    /// One refresh pass of T2 now: the held filters hottest first (at most RefreshMaxUsers), each whose snapshot is
    /// missing or older than RefreshMaxAge written back, until <paramref name="byteBudget"/> bytes.
    /// </summary>
    internal Task<SnapshotRefresh> RefreshSnapshotsAsync(long byteBudget, bool shutdown, CancellationToken cancellationToken) =>
        _tier!.RefreshAsync(Filters.RankHottestFirst(), byteBudget, shutdown, cancellationToken);

    /// <summary>Starts the periodic refresh when T2 has a RefreshInterval.</summary>
    private void StartRefresh()
    {
        if (_tier is { Options.RefreshInterval: var interval } && interval > TimeSpan.Zero)
        {
            _refreshLoop = RefreshLoopAsync(interval);
        }
    }

    private async Task RefreshLoopAsync(TimeSpan interval)
    {
        using var timer = new PeriodicTimer(interval, _time);
        var budget = RefreshBudget(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
            {
                try
                {
                    await RefreshSnapshotsAsync(budget, shutdown: false, _stopping.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // Not a Redis failure (those are counted in the pass): keep refreshing, and say so.
                    Log.SnapshotTierFailed(_logger, e, _options.Pool, "refresh");
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Shutting down: the last pass, if any, is WriteBackAtShutdownAsync's.
        }
    }

    /// <summary>One last refresh pass at a graceful shutdown, bounded by ShutdownWriteBackTimeout (nothing when zero).</summary>
    private async Task WriteBackAtShutdownAsync()
    {
        var timeout = _tier!.Options.ShutdownWriteBackTimeout;
        if (timeout <= TimeSpan.Zero)
        {
            return;
        }

        using var deadline = new CancellationTokenSource(timeout, _time);
        try
        {
            await RefreshSnapshotsAsync(RefreshBudget(timeout), shutdown: true, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            // The rest stays out of T2: those users are rebuilt from the database wherever they miss next.
        }
    }

    private long RefreshBudget(TimeSpan period) => (long)Math.Min(long.MaxValue / 2, _tier!.Options.RefreshBytesPerSecond * period.TotalSeconds);
}
