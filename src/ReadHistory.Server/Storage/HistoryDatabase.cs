using Microsoft.Extensions.Logging;
using MySqlConnector;
using ReadHistory.Core.Routing;

namespace ReadHistory.Server.Storage;

/// <summary>
/// A migrated history schema, opened: where each user lives, which SQL to send, and the connection pools. Opening
/// reads the recorded schema (so the engine is the one the tables really have) and re-applies the server setup that
/// MyRocks forgets at restart. Disposing closes the pools.
/// </summary>
internal sealed class HistoryDatabase : IAsyncDisposable
{
    private HistoryDatabase(DatabaseOptions options, StorageDialect dialect, StorageConnections connections)
    {
        Options = options;
        Dialect = dialect;
        Map = new ShardMap(options.Databases, options.TablesPerDatabase);
        Names = new ShardNames(options.DatabasePrefix, options.Databases, options.TablesPerDatabase);
        Connections = connections;
    }

    /// <summary>The settings.</summary>
    public DatabaseOptions Options { get; }

    /// <summary>The SQL of this server and engine.</summary>
    public StorageDialect Dialect { get; }

    /// <summary>User → shard.</summary>
    public ShardMap Map { get; }

    /// <summary>Shard → table name.</summary>
    public ShardNames Names { get; }

    /// <summary>The three pools.</summary>
    public StorageConnections Connections { get; }

    /// <summary>The quoted table of a user.</summary>
    public string TableOf(ulong userId) => Names.QualifiedTable(Map.ShardOf(userId));

    /// <summary>Opens the schema; throws when it was never migrated or was made for another shard shape.</summary>
    public static async Task<HistoryDatabase> OpenAsync(DatabaseOptions options, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var names = new ShardNames(options.DatabasePrefix, options.Databases, options.TablesPerDatabase);
        var connections = new StorageConnections(options);
        try
        {
            var dialect = await ReadDialectAsync(connections, names, options, logger, cancellationToken).ConfigureAwait(false);
            return new HistoryDatabase(options, dialect, connections);
        }
        catch
        {
            await connections.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => Connections.DisposeAsync();

    private static async Task<StorageDialect> ReadDialectAsync(StorageConnections connections, ShardNames names, DatabaseOptions options, ILogger logger, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync(StoragePool.Ingest, cancellationToken).ConfigureAwait(false);
        (int Version, StorageEngine Engine, int Databases, int Tables)? recorded;
        try
        {
            recorded = await SchemaMigrator.ReadVersionAsync(connection, names, cancellationToken).ConfigureAwait(false);
        }
        catch (MySqlException e) when (e.ErrorCode is MySqlErrorCode.NoSuchTable or MySqlErrorCode.UnknownDatabase)
        {
            recorded = null;
        }

        if (recorded is not { } r)
        {
            throw new InvalidOperationException($"no history schema under '{names.Prefix}': run `readhistory migrate` first");
        }

        if (r.Databases != names.Databases || r.Tables != names.TablesPerDatabase)
        {
            throw new InvalidOperationException($"the schema was made for {r.Databases} × {r.Tables} tables, the configuration says {names.Databases} × {names.TablesPerDatabase}");
        }

        var version = connection.ServerVersion;
        var dialect = StorageDialect.Create(SchemaMigrator.ResolveDialect(options.Dialect, version), r.Engine, options.RocksDbColumnFamily);
        await SchemaMigrator.ApplyServerSetupAsync(connection, dialect, options, logger, cancellationToken).ConfigureAwait(false);
        return dialect;
    }
}
