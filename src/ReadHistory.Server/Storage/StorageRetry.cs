using Polly;
using Polly.Retry;

namespace ReadHistory.Server.Storage;

/// <summary>
/// The retry of a storage statement after a transient error (<see cref="StorageErrors.IsTransient"/>), shared by the
/// group-commit flush and forget: both statements are idempotent (an upsert, a delete by user), so retrying after an
/// unknown outcome is safe. Bounded by <see cref="DatabaseOptions.GroupCommitMaxRetries"/>, exponential with jitter.
/// </summary>
internal static class StorageRetry
{
    /// <summary>A pipeline retrying transient errors per <paramref name="options"/>; <paramref name="onRetry"/> logs each retry.</summary>
    public static ResiliencePipeline Build(DatabaseOptions options, TimeProvider time, Func<OnRetryArguments<object>, ValueTask> onRetry)
    {
        var builder = new ResiliencePipelineBuilder { TimeProvider = time };
        if (options.GroupCommitMaxRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = static args => ValueTask.FromResult(args.Outcome.Exception is { } e && StorageErrors.IsTransient(e)),
                MaxRetryAttempts = options.GroupCommitMaxRetries,
                Delay = options.GroupCommitRetryDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                OnRetry = onRetry,
            });
        }

        return builder.Build();
    }
}
