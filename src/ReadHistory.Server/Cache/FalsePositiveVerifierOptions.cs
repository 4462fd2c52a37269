namespace ReadHistory.Server.Cache;

/// <summary>How a pool's <see cref="FalsePositiveVerifier"/> samples (made from <see cref="CacheNodeOptions"/>; tests make their own).</summary>
internal sealed class FalsePositiveVerifierOptions
{
    /// <summary>Fraction of the Checks answered from memory that are drawn (0 = the verifier is off).</summary>
    public required double SampleFraction { get; init; }

    /// <summary>Ids drawn from each sampled Check.</summary>
    public required int IdsPerSample { get; init; }

    /// <summary>Most database queries per second the verifier makes (one per sampled Check that had ids called read).</summary>
    public required double QueriesPerSecond { get; init; }

    /// <summary>Samples waiting for their query; past it a drawn Check is skipped.</summary>
    public int QueueLength { get; init; } = 64;

    /// <summary>Deadline of one verifying query.</summary>
    public TimeSpan QueryTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Throws when a value would keep the verifier from running.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(SampleFraction, nameof(SampleFraction));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(SampleFraction, 1, nameof(SampleFraction));
        ArgumentOutOfRangeException.ThrowIfLessThan(IdsPerSample, 1, nameof(IdsPerSample));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(QueriesPerSecond, 0, nameof(QueriesPerSecond));
        ArgumentOutOfRangeException.ThrowIfLessThan(QueueLength, 1, nameof(QueueLength));
    }
}
