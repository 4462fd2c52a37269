namespace ReadHistory.LoadGen.Scheduling;

/// <summary>What a scheduler drives: one call per sequence number, at (or as soon as possible after) its intended time.</summary>
internal interface IScheduledCall
{
    /// <summary>Runs call <paramref name="sequence"/>, intended to start at timestamp <paramref name="intended"/>.</summary>
    Task InvokeAsync(long sequence, long intended);

    /// <summary>Call <paramref name="sequence"/> could not be issued: the in-flight cap was reached at its intended time.</summary>
    void Dropped(long sequence, long intended);
}
