using ReadHistory.MySql;
using ReadHistory.Server.Hosting;

namespace ReadHistory.Server.Storage;

/// <summary>
/// The three connection pools. The client pools by connection string, so each pool gets its own string: its own
/// size and its own command timeout (short for point queries, long for scans), which also keeps the strings distinct
/// whatever sizes are configured. The point pool does not reset sessions when they come back (COM_RESET_CONNECTION
/// would drop their prepared statements, and the next rental would prepare again): its sessions only ever run the
/// point query, outside transactions and without session settings, so there is no state to clear.
/// </summary>
internal sealed class StorageConnections
{
    private readonly string[] _connectionStrings = new string[3];

    /// <summary>Builds the three connection strings from the configured one.</summary>
    public StorageConnections(DatabaseOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _connectionStrings[(int)StoragePool.Point] = Build(options.ConnectionString, options.PointPoolSize, minimum: Math.Min(4, options.PointPoolSize), commandTimeoutSeconds: 5, reset: false);
        _connectionStrings[(int)StoragePool.Scan] = Build(options.ConnectionString, options.ScanPoolSize, minimum: 0, commandTimeoutSeconds: 600, reset: true);
        _connectionStrings[(int)StoragePool.Ingest] = Build(options.ConnectionString, options.IngestPoolSize, minimum: 0, commandTimeoutSeconds: 60, reset: true);
    }

    /// <summary>The connection string of a pool.</summary>
    public string ConnectionString(StoragePool pool) => _connectionStrings[(int)pool];

    /// <summary>Opens a connection from a pool.</summary>
    public async Task<MySqlConnection> OpenAsync(StoragePool pool, CancellationToken cancellationToken)
    {
        var connection = new MySqlConnection(_connectionStrings[(int)pool]);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static string Build(string connectionString, int maximum, int minimum, uint commandTimeoutSeconds, bool reset) =>
        new MySqlConnectionStringBuilder(connectionString)
        {
            Database = string.Empty,
            Pooling = true,
            MaximumPoolSize = (uint)maximum,
            MinimumPoolSize = (uint)minimum,
            DefaultCommandTimeout = commandTimeoutSeconds,
            ConnectionReset = reset,
        }.ConnectionString;
}
