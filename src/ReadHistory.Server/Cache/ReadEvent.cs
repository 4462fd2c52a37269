namespace ReadHistory.Server.Cache;

/// <summary>One read to record: the content id and when it was read (Unix ms; 0 = when the service received it).</summary>
/// <param name="ContentId">The content read; 1 .. 2^64-1.</param>
/// <param name="ReadAtMs">Unix milliseconds; 0 = now.</param>
internal readonly record struct ReadEvent(ulong ContentId, long ReadAtMs);
