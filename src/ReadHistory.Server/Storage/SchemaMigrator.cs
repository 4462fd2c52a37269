using Microsoft.Extensions.Logging;
using Dapper;
using MySqlConnector;
using ReadHistory.Core.Routing;

namespace ReadHistory.Server.Storage;

/// <summary>
/// Creates or upgrades the history schema idempotently: the meta database with its version row, then D databases ×
/// T tables in the engine the server offers. A second run changes nothing (not even the version row's timestamp).
/// The shard shape is recorded and never changed here: a different D × T means moving rows, which is a migration of
/// its own.
/// </summary>
internal static class SchemaMigrator
{
    /// <summary>The schema version this build creates. Version 1: the history tables and the meta table.</summary>
    public const int CurrentVersion = 1;

    /// <summary>Migrates the server described by <paramref name="options"/>.</summary>
    public static async Task<MigrationResult> MigrateAsync(DatabaseOptions options, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        await using var connections = new StorageConnections(options);
        var names = new ShardNames(options.DatabasePrefix, options.Databases, options.TablesPerDatabase);
        await using var connection = await connections.OpenAsync(StoragePool.Ingest, cancellationToken).ConfigureAwait(false);

        var serverVersion = (string)(await ScalarAsync(connection, "SELECT VERSION()", cancellationToken).ConfigureAwait(false))!;
        var dialectKind = ResolveDialect(options.Dialect, serverVersion);
        if (dialectKind == StorageDialectKind.TiDb && names.Databases * names.TablesPerDatabase != 1)
        {
            throw new InvalidOperationException($"TiDB shards by itself: configure Databases = TablesPerDatabase = 1, not {names.Databases} × {names.TablesPerDatabase}");
        }

        await ExecuteAsync(connection, StorageDialect.CreateDatabase(names.MetaDatabase), cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, StorageDialect.CreateMetaTable(names.MetaDatabase), cancellationToken).ConfigureAwait(false);
        var recorded = await ReadVersionAsync(connection, names, cancellationToken).ConfigureAwait(false);
        if (recorded is { } r && (r.Databases != names.Databases || r.Tables != names.TablesPerDatabase))
        {
            throw new InvalidOperationException(
                $"the schema under '{names.Prefix}' was made for {r.Databases} × {r.Tables} tables, the configuration asks for " +
                $"{names.Databases} × {names.TablesPerDatabase}; changing the shape moves rows and is not done by migrate");
        }

        var engine = recorded?.Engine ?? await ResolveEngineAsync(connection, dialectKind, options.Engine, cancellationToken).ConfigureAwait(false);
        var dialect = StorageDialect.Create(dialectKind, engine, options.RocksDbColumnFamily);
        Log.MigrateStarting(logger, dialectKind, serverVersion, engine, names.Databases, names.TablesPerDatabase);

        var existing = await ExistingTablesAsync(connection, names, cancellationToken).ConfigureAwait(false);
        var created = 0;
        for (var d = 0; d < names.Databases; d++)
        {
            for (var t = 0; t < names.TablesPerDatabase; t++)
            {
                if (existing.Contains((names.Database(d), ShardNames.Table(t))))
                {
                    continue;
                }

                await ExecuteAsync(connection, StorageDialect.CreateDatabase(names.Database(d)), cancellationToken).ConfigureAwait(false);
                await ExecuteAsync(connection, dialect.CreateTable(names.QualifiedTable((d * names.TablesPerDatabase) + t)), cancellationToken).ConfigureAwait(false);
                created++;
            }
        }

        await ApplyServerSetupAsync(connection, dialect, options, logger, cancellationToken).ConfigureAwait(false);
        var from = recorded?.Version ?? 0;
        if (from != CurrentVersion)
        {
            await ExecuteAsync(connection,
                $"INSERT INTO `{names.MetaDatabase}`.`schema_version` (id, version, engine, shard_databases, shard_tables) " +
                $"VALUES (1, {CurrentVersion}, '{engine}', {names.Databases}, {names.TablesPerDatabase}) " +
                "ON DUPLICATE KEY UPDATE version = VALUES(version)",
                cancellationToken).ConfigureAwait(false);
        }

        Log.MigrateDone(logger, from, CurrentVersion, created);
        return new MigrationResult(dialectKind, serverVersion, engine, from, CurrentVersion, created);
    }

    /// <summary>Runs the dialect's server setup (MyRocks column family options, TiDB resource groups); failures are logged, not thrown.</summary>
    public static async Task ApplyServerSetupAsync(MySqlConnection connection, StorageDialect dialect, DatabaseOptions options, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dialect);
        ArgumentNullException.ThrowIfNull(options);
        foreach (var statement in dialect.ServerSetup(options.RocksDbColumnFamilyOptions))
        {
            try
            {
                await ExecuteAsync(connection, statement, cancellationToken).ConfigureAwait(false);
            }
            catch (MySqlException e)
            {
                Log.ServerSetupFailed(logger, e, statement);
            }
        }
    }

    /// <summary>The recorded version row, or null when the schema was never migrated.</summary>
    internal static async Task<(int Version, StorageEngine Engine, int Databases, int Tables)?> ReadVersionAsync(
        MySqlConnection connection, ShardNames names, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(names);
        var sql = $"SELECT version, engine, shard_databases, shard_tables FROM `{names.MetaDatabase}`.`schema_version` WHERE id = 1";
        var row = await connection.QuerySingleOrDefaultAsync<(int Version, string? Engine, int Databases, int Tables)>(
            new CommandDefinition(sql, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return row.Engine is null ? null : (row.Version, Enum.Parse<StorageEngine>(row.Engine), row.Databases, row.Tables);
    }

    /// <summary>TiDB when configured or when VERSION() says so.</summary>
    internal static StorageDialectKind ResolveDialect(StorageDialectKind configured, string serverVersion) =>
        configured != StorageDialectKind.Auto ? configured
        : serverVersion.Contains("TiDB", StringComparison.OrdinalIgnoreCase) ? StorageDialectKind.TiDb
        : StorageDialectKind.MariaDb;

    private static async Task<StorageEngine> ResolveEngineAsync(MySqlConnection connection, StorageDialectKind dialect, StorageEngine configured, CancellationToken cancellationToken)
    {
        if (dialect == StorageDialectKind.TiDb)
        {
            return StorageEngine.InnoDb;
        }

        if (configured is StorageEngine.InnoDb or StorageEngine.InnoDbCompressed)
        {
            return configured;
        }

        var support = await ScalarAsync(connection, "SELECT SUPPORT FROM information_schema.ENGINES WHERE ENGINE = 'ROCKSDB'", cancellationToken).ConfigureAwait(false) as string;
        var hasRocksDb = support is "YES" or "DEFAULT";
        if (configured == StorageEngine.RocksDb && !hasRocksDb)
        {
            throw new InvalidOperationException("Engine = RocksDb, but the server has no MyRocks (SHOW ENGINES); load ha_rocksdb or choose InnoDbCompressed");
        }

        return hasRocksDb ? StorageEngine.RocksDb : StorageEngine.InnoDbCompressed;
    }

    private static async Task<HashSet<(string Database, string Table)>> ExistingTablesAsync(MySqlConnection connection, ShardNames names, CancellationToken cancellationToken)
    {
        var sql = "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA LIKE @pattern";
        var pattern = names.Prefix.Replace("_", "\\_", StringComparison.Ordinal) + "\\_%";
        var rows = await connection.QueryAsync<(string Database, string Table)>(
            new CommandDefinition(sql, new { pattern }, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return [.. rows];
    }

    private static Task<object?> ScalarAsync(MySqlConnection connection, string sql, CancellationToken cancellationToken) =>
        connection.ExecuteScalarAsync(new CommandDefinition(sql, cancellationToken: cancellationToken));

    private static Task<int> ExecuteAsync(MySqlConnection connection, string sql, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition(sql, cancellationToken: cancellationToken));
}
