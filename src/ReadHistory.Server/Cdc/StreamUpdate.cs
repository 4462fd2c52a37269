namespace ReadHistory.Server.Cdc;

/// <summary>
/// What a <see cref="ChangeStreamReader"/> hands out: either a batch of changes to apply, or a gap — the replica can
/// no longer prove its filters coherent (new epoch, entries trimmed past its cursor, corrupt entry) and must drop
/// every filter and every rebuild in flight, then continue from <see cref="Cursor"/>.
/// </summary>
internal sealed class StreamUpdate
{
    private StreamUpdate(StreamCursor cursor, ChangeBatch? batch, string? gapReason)
    {
        Cursor = cursor;
        Batch = batch;
        GapReason = gapReason;
    }

    /// <summary>The cursor once this update is applied (save it after applying).</summary>
    public StreamCursor Cursor { get; }

    /// <summary>The batch, unless this is a gap.</summary>
    public ChangeBatch? Batch { get; }

    /// <summary>Why continuity is lost, when this is a gap.</summary>
    public string? GapReason { get; }

    /// <summary>Whether this is a gap.</summary>
    public bool IsGap => GapReason is not null;

    /// <summary>A batch to apply.</summary>
    public static StreamUpdate ForBatch(StreamCursor cursor, ChangeBatch batch) => new(cursor, batch, null);

    /// <summary>A gap.</summary>
    public static StreamUpdate ForGap(StreamCursor cursor, string reason) => new(cursor, null, reason);

    /// <inheritdoc />
    public override string ToString() => IsGap ? $"gap ({GapReason}) → {Cursor}" : $"{Batch} → {Cursor}";
}
