namespace ReadHistory.Server.Cache;

/// <summary>
/// What a warm start did. When <see cref="IsWarm"/>, the node holds <see cref="Users"/> filters copied from the peer
/// and must tail its slot stream from <see cref="Cursor"/> (empty when the peer knew no stream position, see
/// <see cref="SnapshotCursorSource"/>); otherwise it holds none of them and starts cold.
/// </summary>
/// <param name="Outcome">How it ended.</param>
/// <param name="Cursor">The peer's change-stream cursor, read before its copy began; empty on failure.</param>
/// <param name="Users">Filters installed (0 on failure: they were dropped).</param>
/// <param name="Bytes">Snapshot bytes of the filters installed (0 on failure).</param>
/// <param name="Duration">Time from the call to the outcome.</param>
/// <param name="Error">Why it failed; null unless <see cref="Outcome"/> is <see cref="WarmStartOutcome.Failed"/>.</param>
internal sealed record WarmStartResult(WarmStartOutcome Outcome, ReadOnlyMemory<byte> Cursor, long Users, long Bytes, TimeSpan Duration, string? Error)
{
    /// <summary>True when the node kept the copied filters (<see cref="WarmStartOutcome.Completed"/> or <see cref="WarmStartOutcome.BudgetFull"/>).</summary>
    public bool IsWarm => Outcome != WarmStartOutcome.Failed;
}
