namespace ReadHistory.Server.Cache;

/// <summary>What a change from the coherence stream (or a local write) does to a user's filter.</summary>
internal enum ChangeKind
{
    /// <summary>A row (user, type, id) was committed: set its bits.</summary>
    Insert = 1,

    /// <summary>The user's whole history was deleted: drop the filter and any rebuild in progress.</summary>
    DeleteUser = 2,
}
