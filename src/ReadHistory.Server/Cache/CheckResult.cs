namespace ReadHistory.Server.Cache;

/// <summary>The outcome of a check: how many ids are unread, and where the answer came from.</summary>
/// <param name="UnreadCount">Ids certainly not read.</param>
/// <param name="Source">Memory (a filter), Database (a point query on a miss or for a capped user) or Passthrough.</param>
internal readonly record struct CheckResult(int UnreadCount, CheckSource Source);
