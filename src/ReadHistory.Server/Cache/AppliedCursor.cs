using ReadHistory.Server.Cdc;

namespace ReadHistory.Server.Cache;

/// <summary>
/// Where this node's filters are coherent to in its slot's change stream: the position of the last change applied to
/// every held filter (published by the coherence tailer after the change's bits are set; none until it tails). The
/// second tier stamps written-back filters with it and catches loaded ones up past it.
/// </summary>
internal sealed class AppliedCursor
{
    private volatile Box? _applied;

    /// <summary>The position now, or null while the node tails no stream.</summary>
    public StreamCursor? Applied => _applied?.Cursor;

    /// <summary>Publishes a position (after every change up to it is applied).</summary>
    public void Publish(StreamCursor cursor) => _applied = new Box(cursor);

    private sealed class Box(StreamCursor cursor)
    {
        public StreamCursor Cursor { get; } = cursor;
    }
}
