namespace ReadHistory.Server.Storage;

/// <summary>What <see cref="SchemaMigrator.MigrateAsync"/> found and did.</summary>
/// <param name="Dialect">The server family.</param>
/// <param name="ServerVersion">VERSION() of the server.</param>
/// <param name="Engine">The engine of the history tables.</param>
/// <param name="FromVersion">Schema version before (0 = none).</param>
/// <param name="ToVersion">Schema version after.</param>
/// <param name="TablesCreated">History tables created by this run (0 when the schema was complete).</param>
internal sealed record MigrationResult(StorageDialectKind Dialect, string ServerVersion, StorageEngine Engine, int FromVersion, int ToVersion, int TablesCreated)
{
    /// <summary>Whether the run changed anything.</summary>
    public bool Changed => FromVersion != ToVersion || TablesCreated > 0;
}
