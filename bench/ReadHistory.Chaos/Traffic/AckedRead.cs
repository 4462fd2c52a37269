namespace ReadHistory.Chaos;

/// <summary>One acknowledged read: the id, when the client received the acknowledgement (Stopwatch ticks), and the session index of the write.</summary>
internal readonly record struct AckedRead(ulong ContentId, long AckedAt, int Session);
