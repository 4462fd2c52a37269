namespace ReadHistory.Server.Storage;

/// <summary>One item of a write: a content id and when it was read (Unix ms; 0 = now). Not the wire's StoredRead.</summary>
internal readonly record struct StoredRead(ulong ContentId, long ReadAtMs);
