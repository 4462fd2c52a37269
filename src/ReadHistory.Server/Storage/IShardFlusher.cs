namespace ReadHistory.Server.Storage;

/// <summary>Commits one batch of rows to one shard in one transaction (or fails without committing any of them).</summary>
internal interface IShardFlusher
{
    /// <summary>Upserts <paramref name="rows"/> (sorted by primary key, keys unique) into the shard's table and commits.</summary>
    Task FlushAsync(int shard, ReadOnlyMemory<HistoryRow> rows, CancellationToken cancellationToken);
}
