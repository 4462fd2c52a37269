using System.Diagnostics;
using System.Globalization;
using System.Text;
using ReadHistory.LoadGen.Model;
using ReadHistory.LoadGen.Targets;
using MySqlConnector;

namespace ReadHistory.LoadGen.Preload;

/// <summary>
/// Writes the model's whole history straight into the shard tables (after <c>readhistory migrate</c>): multi-row
/// INSERT IGNOREs of <c>rowsPerStatement</c> rows over several connections, users split by rank across them.
/// Plain multi-row INSERTs rather than MySqlBulkLoader (LOAD DATA LOCAL INFILE), which needs local_infile allowed on
/// the server and AllowLoadLocalInfile in the connection string.
/// </summary>
internal sealed class DatabasePreloader(WorkloadModel model, TargetOptions options, int connections, int rowsPerStatement, TextWriter log)
{
    private long _rows;

    /// <summary>Optionally empties the tables, then loads every user's preloaded rows; returns the rows sent.</summary>
    public async Task<long> RunAsync(bool truncate, CancellationToken cancellationToken)
    {
        var tables = new ShardTables(options.DatabasePrefix, options.Databases, options.TablesPerDatabase);
        if (truncate)
        {
            await using var connection = new MySqlConnection(options.Database);
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            for (var shard = 0; shard < tables.Count; shard++)
            {
                await using var command = new MySqlCommand("TRUNCATE TABLE " + tables.Table(shard), connection);
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        var expected = model.TotalRows();
        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"preload: {model.Options.Users:N0} users, {expected:N0} rows, {connections} connections, {rowsPerStatement} rows per INSERT"));
        var watch = Stopwatch.StartNew();
        using var timer = new Timer(_ => log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"preload: {Interlocked.Read(ref _rows):N0} / {expected:N0} rows, {Interlocked.Read(ref _rows) / Math.Max(0.001, watch.Elapsed.TotalSeconds):N0} rows/s")), null, 1000, 1000);
        var workers = new Task[connections];
        for (var w = 0; w < connections; w++)
        {
            var worker = w;
            workers[w] = Task.Run(() => WorkAsync(worker, tables, cancellationToken), cancellationToken);
        }

        await Task.WhenAll(workers).ConfigureAwait(false);
        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"preload: {_rows:N0} rows in {watch.Elapsed.TotalSeconds:F1} s ({_rows / watch.Elapsed.TotalSeconds:N0} rows/s)"));
        return _rows;
    }

    private async Task WorkAsync(int worker, ShardTables tables, CancellationToken cancellationToken)
    {
        await using var connection = new MySqlConnection(options.Database);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        var buffers = new StringBuilder?[tables.Count];
        var counts = new int[tables.Count];
        var type = model.Options.ContentType.ToString(CultureInfo.InvariantCulture);
        for (var rank = worker; rank < model.Options.Users; rank += connections)
        {
            var user = model.UserId(rank);
            var shard = tables.ShardOf(user);
            var userText = user.ToString(CultureInfo.InvariantCulture);
            var size = model.HistorySize(rank);
            for (var i = 0; i < size; i++)
            {
                var sql = buffers[shard] ??= Begin(tables.Table(shard));
                sql.Append(counts[shard] == 0 ? "(" : ",(").Append(userText).Append(',').Append(type).Append(',')
                    .Append(model.ReadId(user, i).ToString(CultureInfo.InvariantCulture)).Append(",1700000000)");
                if (++counts[shard] == rowsPerStatement)
                {
                    await FlushAsync(connection, sql, counts[shard], cancellationToken).ConfigureAwait(false);
                    buffers[shard] = null;
                    counts[shard] = 0;
                }
            }
        }

        for (var shard = 0; shard < buffers.Length; shard++)
        {
            if (buffers[shard] is { } sql && counts[shard] > 0)
            {
                await FlushAsync(connection, sql, counts[shard], cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static StringBuilder Begin(string table) =>
        new StringBuilder(64 * 1024).Append("INSERT IGNORE INTO ").Append(table).Append(" (user_id, content_type, content_id, read_at) VALUES ");

    private async Task FlushAsync(MySqlConnection connection, StringBuilder sql, int rows, CancellationToken cancellationToken)
    {
        await using var command = new MySqlCommand(sql.ToString(), connection) { CommandTimeout = 600 };
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        Interlocked.Add(ref _rows, rows);
    }
}
