using System.Globalization;
using System.Text;
using MySqlConnector;

namespace ReadHistory.LoadGen.Targets;

/// <summary>The database alone, no cache: the point query for every check, a multi-row INSERT IGNORE for every write.</summary>
internal sealed class DatabaseTarget(TargetOptions options, uint contentType) : ILoadTarget
{
    private readonly ShardTables _tables = new(options.DatabasePrefix, options.Databases, options.TablesPerDatabase);
    private readonly MySqlDataSource _source = BuildSource(options.Database);

    /// <inheritdoc />
    public string Name => "database";

    /// <inheritdoc />
    public Task PrepareAsync(TextWriter log, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public async Task CheckAsync(CheckCall call, CancellationToken cancellationToken)
    {
        var sql = new StringBuilder(64 + (call.Ids.Length * 20));
        sql.Append("SELECT content_id FROM ").Append(_tables.Table(_tables.ShardOf(call.UserId)))
            .Append(" WHERE user_id=").Append(call.UserId.ToString(CultureInfo.InvariantCulture))
            .Append(" AND content_type=").Append(contentType.ToString(CultureInfo.InvariantCulture))
            .Append(" AND content_id IN (");
        for (var i = 0; i < call.Ids.Length; i++)
        {
            sql.Append(i == 0 ? string.Empty : ",").Append(call.Ids[i].ToString(CultureInfo.InvariantCulture));
        }

        sql.Append(')');
        var found = new HashSet<ulong>();
        await using (var connection = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false))
        {
            await using var command = new MySqlCommand(sql.ToString(), connection);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                found.Add(Convert.ToUInt64(reader.GetValue(0), CultureInfo.InvariantCulture));
            }
        }

        for (var i = 0; i < call.Ids.Length; i++)
        {
            call.Read[i] = found.Contains(call.Ids[i]);
        }
    }

    /// <inheritdoc />
    public Task BatchCheckAsync(IReadOnlyList<CheckCall> calls, CancellationToken cancellationToken) =>
        Task.WhenAll(calls.Select(c => CheckAsync(c, cancellationToken)));

    /// <inheritdoc />
    public async Task MarkReadAsync(ulong userId, string sessionId, ulong[] ids, CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var sql = new StringBuilder(96 + (ids.Length * 48));
        sql.Append("INSERT IGNORE INTO ").Append(_tables.Table(_tables.ShardOf(userId)))
            .Append(" (user_id, content_type, content_id, read_at) VALUES ");
        for (var i = 0; i < ids.Length; i++)
        {
            sql.Append(i == 0 ? "(" : ",(").Append(userId.ToString(CultureInfo.InvariantCulture)).Append(',')
                .Append(contentType.ToString(CultureInfo.InvariantCulture)).Append(',')
                .Append(ids[i].ToString(CultureInfo.InvariantCulture)).Append(',').Append(now).Append(')');
        }

        await using var connection = await _source.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new MySqlCommand(sql.ToString(), connection);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task<MemoryFigure?> MeasureMemoryAsync(long rowsTouched, CancellationToken cancellationToken) => Task.FromResult<MemoryFigure?>(null);

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _source.DisposeAsync();

    private static MySqlDataSource BuildSource(string connectionString)
    {
        var builder = new MySqlDataSourceBuilder(connectionString).UseName("loadgen");
        builder.ConnectionStringBuilder.Pooling = true;
        builder.ConnectionStringBuilder.MaximumPoolSize = 256;
        return builder.Build();
    }
}
