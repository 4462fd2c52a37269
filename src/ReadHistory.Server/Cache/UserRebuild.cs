using ReadHistory.Core.Filters;

namespace ReadHistory.Server.Cache;

/// <summary>
/// One user's rebuild in progress (count, size, scan, install), shared by every miss of the user (single-flight).
/// Changes that arrive meanwhile are buffered here under <see cref="Gate"/> and applied just before the install,
/// under the same lock, so a change is either in the buffer or finds the installed filter: never lost.
/// </summary>
internal sealed class UserRebuild(ulong userId, bool trySnapshot = false)
{
    /// <summary>Guards <see cref="State"/> and <see cref="Buffer"/>.</summary>
    public Lock Gate { get; } = new();

    /// <summary>The user.</summary>
    public ulong UserId { get; } = userId;

    /// <summary>Where the rebuild is (under <see cref="Gate"/>).</summary>
    public RebuildState State { get; set; } = RebuildState.Running;

    /// <summary>Changes seen since the rebuild was registered, in arrival order (under <see cref="Gate"/>).</summary>
    public List<ContentKey> Buffer { get; } = [];

    /// <summary>
    /// With the second tier: completed true once the user is installed from its T2 snapshot, false once the rebuild
    /// goes on from the database (or ends); misses wait for it up to the tier's LoadTimeout. Null without T2.
    /// </summary>
    public TaskCompletionSource<bool>? SnapshotLoad { get; } = trySnapshot ? new(TaskCreationOptions.RunContinuationsAsynchronously) : null;

    /// <summary>Rows the database counted for the user (−1 until counted).</summary>
    public long Rows { get; set; } = -1;

    /// <summary>The task running the rebuild (awaited on dispose).</summary>
    public Task Completion { get; set; } = Task.CompletedTask;

    /// <summary>True once abandoned (forgotten user, buffer overflow, shutdown); read without the lock as a hint to stop early.</summary>
    public bool IsAbandoned => Volatile.Read(ref _abandoned);

    private bool _abandoned;

    /// <summary>Marks the rebuild abandoned (under <see cref="Gate"/>); returns the buffered changes dropped.</summary>
    public int Abandon()
    {
        State = RebuildState.Abandoned;
        Volatile.Write(ref _abandoned, true);
        var dropped = Buffer.Count;
        Buffer.Clear();
        return dropped;
    }
}

/// <summary>The life of a <see cref="UserRebuild"/>.</summary>
internal enum RebuildState
{
    /// <summary>Counting or scanning (or waiting to retry); changes are buffered.</summary>
    Running,

    /// <summary>The filter is installed (or the user marked capped); changes go to the cache.</summary>
    Installed,

    /// <summary>Given up or forgotten; nothing will be installed; changes go to the cache (which does not hold the user).</summary>
    Abandoned,
}
