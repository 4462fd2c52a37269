using System.Collections.Concurrent;
using System.Text;
using MySqlConnector;

namespace ReadHistory.Server.Storage;

/// <summary>
/// Commits group-commit batches over the ingest pool: one multi-row upsert in autocommit when the batch fits one
/// statement (no BEGIN / COMMIT round trips), several inside one transaction otherwise.
/// </summary>
internal sealed class MySqlShardFlusher(HistoryDatabase database) : IShardFlusher
{
    /// <summary>Rows per INSERT statement (about 50 bytes each, far below max_allowed_packet).</summary>
    public const int RowsPerStatement = 5000;

    private readonly ConcurrentBag<StringBuilder> _builders = [];

    /// <inheritdoc />
    public async Task FlushAsync(int shard, ReadOnlyMemory<HistoryRow> rows, CancellationToken cancellationToken)
    {
        var table = database.Names.QualifiedTable(shard);
        var sql = _builders.TryTake(out var cached) ? cached : new StringBuilder(64 * 1024);
        try
        {
            await using var connection = await database.Connections.OpenAsync(StoragePool.Ingest, cancellationToken).ConfigureAwait(false);
            if (rows.Length <= RowsPerStatement)
            {
                await UpsertAsync(connection, null, sql, table, rows.Span, cancellationToken).ConfigureAwait(false);
                return;
            }

            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            for (var start = 0; start < rows.Length; start += RowsPerStatement)
            {
                var chunk = rows.Slice(start, Math.Min(RowsPerStatement, rows.Length - start));
                await UpsertAsync(connection, transaction, sql, table, chunk.Span, cancellationToken).ConfigureAwait(false);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (sql.Capacity <= 1024 * 1024)
            {
                _builders.Add(sql);
            }
        }
    }

    private Task<int> UpsertAsync(MySqlConnection connection, MySqlTransaction? transaction, StringBuilder sql, string table, ReadOnlySpan<HistoryRow> rows, CancellationToken cancellationToken)
    {
        sql.Clear();
        database.Dialect.AppendUpsertHead(sql, table);
        for (var i = 0; i < rows.Length; i++)
        {
            StorageDialect.AppendUpsertRow(sql, rows[i], i == 0);
        }

        StorageDialect.AppendUpsertTail(sql);
        return Run(connection, transaction, sql.ToString(), cancellationToken);

        static async Task<int> Run(MySqlConnection connection, MySqlTransaction? transaction, string text, CancellationToken cancellationToken)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = text;
            command.Transaction = transaction;
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
