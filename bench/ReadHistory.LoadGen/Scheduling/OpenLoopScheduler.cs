namespace ReadHistory.LoadGen.Scheduling;

/// <summary>
/// Open-loop load: call n is intended to start at <c>start + n / rate</c> whatever happened to earlier calls, so a slow
/// target shows up as latency measured from the intended start (no coordinated omission), not as a lower offered
/// rate. In-flight calls are capped; a call due while the cap is reached is not issued and counted as dropped.
/// </summary>
internal sealed class OpenLoopScheduler(TimeProvider timeProvider, double ratePerSecond, int maxInFlight)
{
    private long _inFlight;
    private long _issued;
    private long _dropped;
    private TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _finishedIssuing;

    /// <summary>Calls issued.</summary>
    public long Issued => Interlocked.Read(ref _issued);

    /// <summary>Calls not issued because of the cap.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Calls issued and not yet complete.</summary>
    public long InFlight => Interlocked.Read(ref _inFlight);

    /// <summary>Issues calls for <paramref name="duration"/>, then waits (at most <paramref name="drainTimeout"/>) for those in flight.</summary>
    public async Task RunAsync(IScheduledCall call, TimeSpan duration, TimeSpan drainTimeout, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ratePerSecond);
        var frequency = timeProvider.TimestampFrequency;
        var interval = frequency / ratePerSecond;
        var start = timeProvider.GetTimestamp();
        var end = start + (long)(duration.TotalSeconds * frequency);
        _drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Interlocked.Increment(ref _inFlight); // the issuing loop itself, so the count reaches 0 only after it ends
        for (long sequence = 0; !cancellationToken.IsCancellationRequested; sequence++)
        {
            var intended = start + (long)(sequence * interval);
            if (intended >= end)
            {
                break;
            }

            var now = timeProvider.GetTimestamp();
            if (intended > now)
            {
                await Task.Delay(TimeSpan.FromSeconds((double)(intended - now) / frequency), timeProvider, CancellationToken.None).ConfigureAwait(false);
            }

            if (Interlocked.Read(ref _inFlight) - 1 >= maxInFlight)
            {
                Interlocked.Increment(ref _dropped);
                call.Dropped(sequence, intended);
                continue;
            }

            Interlocked.Increment(ref _inFlight);
            Interlocked.Increment(ref _issued);
            ThreadPool.UnsafeQueueUserWorkItem(static s => s.Self.RunOne(s.Call, s.Sequence, s.Intended), (Self: this, Call: call, Sequence: sequence, Intended: intended), preferLocal: false);
        }

        Volatile.Write(ref _finishedIssuing, 1);
        Complete();
        await Task.WhenAny(_drained.Task, Task.Delay(drainTimeout, timeProvider, CancellationToken.None)).ConfigureAwait(false);
    }

    private async void RunOne(IScheduledCall call, long sequence, long intended)
    {
        try
        {
            await call.InvokeAsync(sequence, intended).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The call records its own outcome; a throw here must not take the scheduler down.
        }
        finally
        {
            Complete();
        }
    }

    private void Complete()
    {
        if (Interlocked.Decrement(ref _inFlight) == 0 && Volatile.Read(ref _finishedIssuing) == 1)
        {
            _drained.TrySetResult();
        }
    }
}
