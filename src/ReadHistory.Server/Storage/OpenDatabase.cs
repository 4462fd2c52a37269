namespace ReadHistory.Server.Storage;

/// <summary>The storage objects of an open database.</summary>
internal sealed record OpenDatabase(HistoryStore Store, GroupCommitWriter Writer);
