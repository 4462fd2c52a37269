namespace ReadHistory.LoadGen.Targets;

/// <summary>A system under load: the service or a peer a user might pick instead, driven with the same calls.</summary>
internal interface ILoadTarget : IAsyncDisposable
{
    /// <summary>Short name used in reports (<c>service</c>, <c>redis-set</c>, …).</summary>
    string Name { get; }

    /// <summary>Loads the target's own copy of the preloaded history when it keeps one (Redis peers); the database is preloaded apart.</summary>
    Task PrepareAsync(TextWriter log, CancellationToken cancellationToken);

    /// <summary>Answers one check, filling <see cref="CheckCall.Read"/>.</summary>
    Task CheckAsync(CheckCall call, CancellationToken cancellationToken);

    /// <summary>Answers many users' checks in one call where the target can (push's BatchCheck), else one by one in parallel.</summary>
    Task BatchCheckAsync(IReadOnlyList<CheckCall> calls, CancellationToken cancellationToken);

    /// <summary>Writes <paramref name="ids"/> read by <paramref name="userId"/>; returns once acknowledged.</summary>
    Task MarkReadAsync(ulong userId, string sessionId, ulong[] ids, CancellationToken cancellationToken);

    /// <summary>
    /// How long after its intended start a call refused for load (RESOURCE_EXHAUSTED with retry-after-ms) may still be
    /// retried: the client deadline of targets that send the hint; null = never retried.
    /// </summary>
    TimeSpan? RetryBudget => null;

    /// <summary>Memory the target spends on what it holds, when it can say; <paramref name="rowsTouched"/> estimates the rows a cache holds.</summary>
    Task<MemoryFigure?> MeasureMemoryAsync(long rowsTouched, CancellationToken cancellationToken);
}
