using MySqlConnector;

namespace ReadHistory.Server.Storage;

/// <summary>
/// The three connection pools, one <see cref="MySqlDataSource"/> each, named after the pool ("point", "scan",
/// "ingest") so MySqlConnector's own pool metrics (<c>pool.name</c>) keep them apart. Each has its own size and
/// command timeout (short for point queries, long for scans). The point pool does not reset sessions when they come
/// back (COM_RESET_CONNECTION would drop their prepared statements, and the next rental would prepare again): its
/// sessions only ever run the point query, outside transactions and without session settings, so there is no state
/// to clear. MySqlConnector keeps a session's prepared statements (by command text) until the session is reset or
/// closed, so with ConnectionReset=false they survive every return to the pool.
/// </summary>
internal sealed class StorageConnections : IAsyncDisposable
{
    private readonly MySqlDataSource[] _sources = new MySqlDataSource[3];

    /// <summary>Builds the three data sources from the configured connection string.</summary>
    public StorageConnections(DatabaseOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _sources[(int)StoragePool.Point] = Build(options.ConnectionString, StoragePool.Point, options.PointPoolSize, minimum: Math.Min(4, options.PointPoolSize), commandTimeoutSeconds: 5, reset: false);
        _sources[(int)StoragePool.Scan] = Build(options.ConnectionString, StoragePool.Scan, options.ScanPoolSize, minimum: 0, commandTimeoutSeconds: 600, reset: true);
        _sources[(int)StoragePool.Ingest] = Build(options.ConnectionString, StoragePool.Ingest, options.IngestPoolSize, minimum: 0, commandTimeoutSeconds: 60, reset: true);
    }

    /// <summary>The connection string of a pool.</summary>
    public string ConnectionString(StoragePool pool) => _sources[(int)pool].ConnectionString;

    /// <summary>The data source of a pool.</summary>
    public MySqlDataSource Source(StoragePool pool) => _sources[(int)pool];

    /// <summary>Opens a connection from a pool.</summary>
    public Task<MySqlConnection> OpenAsync(StoragePool pool, CancellationToken cancellationToken) =>
        _sources[(int)pool].OpenConnectionAsync(cancellationToken).AsTask();

    /// <summary>The name of a pool in metrics (<c>pool.name</c> of MySqlConnector's instruments, <c>pool</c> of ours).</summary>
    public static string PoolName(StoragePool pool) => pool switch
    {
        StoragePool.Point => "point",
        StoragePool.Scan => "scan",
        _ => "ingest",
    };

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        foreach (var source in _sources)
        {
            await source.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static MySqlDataSource Build(string connectionString, StoragePool pool, int maximum, int minimum, uint commandTimeoutSeconds, bool reset)
    {
        _ = MySqlPoolMetrics.Shared; // listening before the pool opens its first connection
        var builder = new MySqlDataSourceBuilder(connectionString).UseName(PoolName(pool));
        var settings = builder.ConnectionStringBuilder;
        settings.Database = string.Empty;
        settings.Pooling = true;
        settings.MaximumPoolSize = (uint)maximum;
        settings.MinimumPoolSize = (uint)minimum;
        settings.DefaultCommandTimeout = commandTimeoutSeconds;
        settings.ConnectionReset = reset;

        // Prepare() must reach the server (the point query depends on it), whatever the configured string says.
        settings.IgnorePrepare = false;
        return builder.Build();
    }
}
