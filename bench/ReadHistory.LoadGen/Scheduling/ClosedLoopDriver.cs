namespace ReadHistory.LoadGen.Scheduling;

/// <summary>Closed-loop load: <c>concurrency</c> workers, each starting its next call when the previous one completes.</summary>
internal sealed class ClosedLoopDriver(TimeProvider timeProvider, int concurrency)
{
    private long _next = -1;

    /// <summary>Calls issued.</summary>
    public long Issued => Interlocked.Read(ref _next) + 1;

    /// <summary>Runs the workers for <paramref name="duration"/>.</summary>
    public Task RunAsync(IScheduledCall call, TimeSpan duration, CancellationToken cancellationToken)
    {
        var end = timeProvider.GetTimestamp() + (long)(duration.TotalSeconds * timeProvider.TimestampFrequency);
        var workers = new Task[concurrency];
        for (var i = 0; i < workers.Length; i++)
        {
            workers[i] = Task.Run(() => WorkAsync(call, end, cancellationToken), CancellationToken.None);
        }

        return Task.WhenAll(workers);
    }

    private async Task WorkAsync(IScheduledCall call, long end, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var now = timeProvider.GetTimestamp();
            if (now >= end)
            {
                return;
            }

            try
            {
                await call.InvokeAsync(Interlocked.Increment(ref _next), now).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Outcomes are recorded by the call.
            }
        }
    }
}
