namespace ReadHistory.Server.Cache;

/// <summary>
/// Where this node is in its slot's change stream, as the opaque bytes a Snapshot sends first: the position of the
/// last change already applied to the filters (not merely read), so that a receiver replaying the stream from it
/// re-applies everything the copied filters might lack. Setting a bit twice is harmless, so earlier is always safe.
/// </summary>
/// <remarks>
/// The coherence tailer implements it (<c>CoherenceTailer.Cursors</c>, encoded by <see cref="SnapshotCursor"/>); a node
/// without a tailer (no Redis) uses <see cref="None"/>, an empty cursor, which a receiver reads as "no stream position
/// known": it cannot prove the copy coherent, so it discards it and starts cold.
/// </remarks>
internal abstract class SnapshotCursorSource
{
    /// <summary>A source with no stream: every snapshot carries an empty cursor.</summary>
    public static SnapshotCursorSource None { get; } = new NoStream();

    /// <summary>The cursor now (called once per Snapshot, before the first filter is read).</summary>
    public abstract ReadOnlyMemory<byte> Current { get; }

    private sealed class NoStream : SnapshotCursorSource
    {
        public override ReadOnlyMemory<byte> Current => ReadOnlyMemory<byte>.Empty;
    }
}
