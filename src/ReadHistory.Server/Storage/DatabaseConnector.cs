using Microsoft.Extensions.Options;
using Prometheus;

namespace ReadHistory.Server.Storage;

/// <summary>
/// Opens the history database in the background at start and keeps trying with backoff until it succeeds, so the
/// process starts (and reports not ready) while the database is down. Owns the store and the group-commit writer.
/// </summary>
internal sealed class DatabaseConnector(IOptions<DatabaseOptions> options, TimeProvider time, ILoggerFactory loggers, CollectorRegistry metrics) : BackgroundService
{
    private readonly ILogger _logger = loggers.CreateLogger("ReadHistory.Storage");
    private readonly StorageMetrics _metrics = new(metrics);
    private volatile OpenDatabase? _open;

    /// <summary>The open database, or null while it cannot be reached yet.</summary>
    public OpenDatabase? Current => _open;

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        if (_open is { } open)
        {
            // Flushes what is queued: every caller still waiting gets its commit or its error.
            await open.Writer.DisposeAsync().ConfigureAwait(false);
            await open.Store.Database.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var delay = TimeSpan.FromMilliseconds(200);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var database = await HistoryDatabase.OpenAsync(settings, _logger, stoppingToken).ConfigureAwait(false);
                var store = new HistoryStore(database, _logger, _metrics, time);
                var writer = new GroupCommitWriter(settings, database.Map, new MySqlShardFlusher(database), time, _logger, _metrics);
                _open = new OpenDatabase(store, writer);
                Log.DatabaseOpened(_logger, database.Dialect.Kind);
                return;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                Log.DatabaseUnreachable(_logger, delay.TotalSeconds, e);
                await Task.Delay(delay, time, stoppingToken).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
            }
        }
    }
}
